//! Staff operations that return data, rendered alike by the terminal, Telegram's staff commands and the web console.

pub mod ask;
