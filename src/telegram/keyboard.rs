//! Callback data for option buttons: a menu number and an option index, far below Telegram's 64 bytes.

/// The callback data of option `index` of menu `menu`: `m{menu}:{index}` (at most 16 bytes).
pub fn callback_data(menu: u32, index: usize) -> String {
    format!("m{menu}:{index}")
}

/// Reads callback data written by [`callback_data`]; anything else is `None`.
pub fn parse_callback(data: &str) -> Option<(u32, usize)> {
    let (menu, index) = data.strip_prefix('m')?.split_once(':')?;
    Some((menu.parse().ok()?, index.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_fits_in_64_bytes() {
        let data = callback_data(u32::MAX, 99);
        assert!(data.len() <= 64);
        assert_eq!(parse_callback(&data), Some((u32::MAX, 99)));
    }

    #[test]
    fn foreign_callback_data_is_rejected() {
        for data in ["", "m", "m1", "x1:2", "m1:-2", "m1:2:3", "好:1"] {
            assert_eq!(parse_callback(data), None, "{data}");
        }
    }
}
