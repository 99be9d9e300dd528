//! The guard's tests: each category of secret, each ordinary number, and properties over generated messages.

use super::*;
use crate::text::numerals::Scan;
use SecretKind::*;
use proptest::prelude::*;

fn kinds(text: &str) -> Vec<SecretKind> {
    guard(text).secrets
}

#[track_caller]
fn assert_clean(text: &str) {
    let g = guard(text);
    assert!(g.is_clean(), "{text:?} -> {g:?}");
    assert_eq!(g.redacted, text);
}

#[track_caller]
fn assert_redacted(text: &str, redacted: &str, secrets: &[SecretKind]) {
    let g = guard(text);
    assert_eq!(g.redacted, redacted, "{text:?}");
    assert_eq!(g.secrets, secrets, "{text:?}");
}

/// Every char any digit script uses, for checking that no digit of a secret survives.
fn is_any_digit(c: char) -> bool {
    crate::text::numerals::digit(c).is_some()
}

#[test]
fn six_ascii_digits_are_a_pin() {
    assert_redacted("123456", MASK, &[Pin]);
    assert_redacted("我的是 654321 吧", "我的是 ****** 吧", &[Pin]);
}

#[test]
fn seven_to_ten_digits_without_context_are_masked_but_doubtful() {
    for text in ["1234567", "87654321", "1234567890"] {
        let g = guard(text);
        assert_eq!(g.redacted, MASK, "{text:?}");
        assert_eq!(g.doubtful, [Pin], "{text:?}");
        assert!(!g.must_delete(), "{text:?}");
    }
    assert_eq!(kinds("密码是1234567"), [Password]);
}

#[test]
fn asking_whether_a_pin_is_good_keeps_the_rest_of_the_question() {
    let g = guard("用123456当密码可以吗");
    assert_eq!(g.redacted, "用******当密码可以吗");
    assert!(g.redacted.starts_with('用'));
    assert!(g.redacted.ends_with("当密码可以吗"));
    assert_eq!(g.secrets, [Pin]);
}

#[test]
fn full_width_digits_are_secrets_too() {
    assert_redacted("用１２３４５６当密码", "用******当密码", &[Pin]);
    assert_eq!(kinds("１３８１２３４５６７８"), [PhoneNumber]);
    assert_eq!(kinds("密码是１２３"), [Password]);
    assert_eq!(kinds("验证码：４８２１"), [SmsCode]);
}

#[test]
fn digits_that_nfkc_folds_are_secrets_too() {
    assert_eq!(kinds("𝟏𝟐𝟑𝟒𝟓𝟔"), [Pin]);
    assert_eq!(kinds("①②③④⑤⑥"), [Pin]);
}

#[test]
fn chinese_numerals_are_digits_too() {
    assert_redacted("密码一二三四五六对吗", "密码******对吗", &[Password]);
    assert_redacted("我设的一二三四五六", "我设的******", &[Pin]);
    assert_eq!(kinds("壹贰叁肆伍陆"), [Pin]);
    assert_eq!(kinds("〇〇七〇〇七"), [Pin]);
    assert_eq!(kinds("幺三八幺二三四五六七八"), [PhoneNumber]);
    assert_eq!(kinds("密码是一二三"), [Password]);
    assert_eq!(kinds("验证码四八二一"), [SmsCode]);
}

#[test]
fn digit_scripts_may_mix_in_one_number() {
    assert_eq!(kinds("123四五六"), [Pin]);
    assert_eq!(kinds("１2３4５6"), [Pin]);
}

#[test]
fn ordinary_words_with_numeral_chars_are_not_secrets() {
    assert_clean("一一对应");
    assert_clean("三六九等");
    assert_clean("十一月一日");
    assert_clean("六位数");
    assert_clean("密码是六位数字吗");
    assert_clean("二〇二四年十月一日");
    assert_clean("12333一直占线");
    assert_clean("登陆12345");
}

#[test]
fn single_separators_between_digits_do_not_hide_a_secret() {
    for text in [
        "123 456",
        "1-2-3-4-5-6",
        "12.34.56",
        "123，456",
        "1、2、3、4、5、6",
        "123_456",
        "12/34/56",
        "123—456",
        "123·456",
        "123\u{3000}456",
        "一 二 三 四 五 六",
        "１ ２ ３ ４ ５ ６",
    ] {
        assert_redacted(text, MASK, &[Pin]);
    }
}

#[test]
fn zero_width_and_format_chars_do_not_hide_a_secret() {
    for text in [
        "123\u{200b}456",
        "1\u{200b}2\u{200c}3\u{200d}4\u{2060}5\u{feff}6",
        "123\u{200b} \u{200b}456",
        "\u{202e}123456\u{202c}",
        "12\u{200f}34\u{200e}56",
        "一\u{200b}二三四五六",
    ] {
        assert_eq!(kinds(text), [Pin], "{text:?}");
    }
    assert_redacted(
        "a\u{200b}123\u{200b}456\u{200b}b",
        "a\u{200b}******\u{200b}b",
        &[Pin],
    );
}

#[test]
fn unusual_separators_do_not_hide_a_secret() {
    for text in [
        "123  456",
        "12 , 34 , 56",
        "123 - 456",
        "1,2,3,4,5,6",
        "12——34——56",
        "1🌸2🌸3🌸4🌸5🌸6",
        "1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}3\u{fe0f}\u{20e3}4\u{fe0f}\u{20e3}5\u{fe0f}\u{20e3}6\u{fe0f}\u{20e3}",
        "[1][2][3][4][5][6]",
    ] {
        let g = guard(text);
        assert_eq!(g.secrets, [Pin], "{text:?}");
        assert!(
            !g.redacted.chars().any(is_any_digit),
            "{text:?} -> {}",
            g.redacted
        );
    }
}

#[test]
fn a_word_or_a_long_gap_ends_a_number() {
    assert_clean("123个456");
    assert_clean("123 ,,,, 456");
    assert_clean("第123步 第456步");
}

#[test]
fn mobile_numbers_are_phone_numbers() {
    for text in [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "+86-138-1234-5678",
        "008613812345678",
        "１９９１２３４５６７８",
        "幺三八 幺二三四 五六七八",
    ] {
        assert_eq!(kinds(text), [PhoneNumber], "{text:?}");
    }
    assert_redacted(
        "我手机+86 138 1234 5678收不到",
        "我手机+******收不到",
        &[PhoneNumber],
    );
    assert_eq!(kinds("12812345678"), [Pin]);
}

#[test]
fn id_numbers_have_eighteen_or_fifteen_characters() {
    assert_redacted("身份证110105194912310021", "身份证******", &[IdNumber]);
    assert_redacted("11010519491231002X号码", "******号码", &[IdNumber]);
    assert_eq!(kinds("11010519491231002x"), [IdNumber]);
    assert_eq!(kinds("110105 19491231 002X"), [IdNumber]);
    assert_eq!(kinds("１１０１０５１９４９１２３１００２Ｘ"), [IdNumber]);
    assert_eq!(kinds("110105491231002"), [IdNumber]);
    assert_eq!(kinds("幺幺〇幺〇五幺九四九幺二三幺〇〇二幺"), [IdNumber]);
}

#[test]
fn bank_card_numbers_have_sixteen_to_nineteen_digits() {
    assert_eq!(kinds("6222021234567890"), [CardNumber]);
    assert_eq!(kinds("6222 0212 3456 7890"), [CardNumber]);
    assert_eq!(kinds("6222-0212-3456-7890-123"), [CardNumber]);
    assert_eq!(
        kinds("卡号６２２２０２１２３４５６７８９０１"),
        [CardNumber]
    );
    assert_eq!(kinds("六二二二零二一二三四五六七八九零"), [CardNumber]);
}

#[test]
fn codes_after_a_code_word_are_sms_codes() {
    assert_redacted("验证码是4821", "验证码是******", &[SmsCode]);
    assert_redacted("验证码 482193", "验证码 ******", &[SmsCode]);
    assert_eq!(kinds("短信验证码：48219375"), [SmsCode]);
    assert_eq!(kinds("校验码为 12345"), [SmsCode]);
    assert_eq!(kinds("动态码5678"), [SmsCode]);
    assert_eq!(kinds("短信码：“9876”"), [SmsCode]);
    assert_eq!(kinds("動態碼是 4321"), [SmsCode]);
    assert_eq!(kinds("动态密码1234"), [SmsCode]);
    assert_eq!(kinds("收到的验证码是多少来着，482193"), [SmsCode]);
}

#[test]
fn codes_need_four_digits() {
    assert_clean("验证码是123");
    assert_clean("验证码60秒");
}

#[test]
fn digits_after_a_password_word_are_a_password() {
    assert_redacted("密码是123", "密码是******", &[Password]);
    for text in [
        "密码为 4567",
        "密码:4567",
        "密码：4567",
        "密码就是888",
        "密码是不是12345",
        "PIN是1234",
        "pin码:12345",
        "Pin 1234",
        "ＰＩＮ：１２３４",
        "口令是 888",
        "密碼為 4567",
        "password: 1234",
        "密码改成 1357",
        "密码1234",
        "密码是“246”",
        "我的密码是123456",
        "密码：12333",
    ] {
        assert_eq!(kinds(text), [Password], "{text:?}");
    }
}

#[test]
fn short_runs_need_a_keyword_right_before_them() {
    assert_clean("123");
    assert_clean("12345");
    assert_clean("密码输错3次");
    assert_clean("spin 1234");
    assert_clean("ping 1234");
    assert_clean("忘了密码 12333 能查吗");
    assert_clean("密码12");
}

#[test]
fn a_short_number_near_a_password_word_is_part_of_one() {
    assert_eq!(kinds("密码忘了，我记得有个123"), [Password]);
    assert_eq!(kinds("密码前三位是123后三位是456"), [Password, Password]);
    assert_eq!(kinds("密码最后两位是56"), [Password]);
    assert_eq!(kinds("密码开头是1"), [Password]);
    assert_eq!(kinds("密码前三位是幺洞幺"), [Password]);
    assert_eq!(kinds("我的密码是12，然后是3456"), [Password, Password]);
    assert_eq!(kinds("验证码前两位是48"), [SmsCode]);
    assert_eq!(kinds("4821是验证码吗"), [SmsCode]);
    assert_eq!(kinds("短信里的数字是4821"), [SmsCode]);
    assert_eq!(kinds("1357是我的密码吗"), [Password]);
    assert_eq!(kinds("身份证后四位是1234"), [IdNumber]);
    // Years, hotlines, counts and units near a password word stay.
    assert_clean("密码是1985年设的");
    assert_clean("密码忘了，我1958生的");
    assert_clean("密码忘了，打12333还是12345");
    assert_clean("密码输错5次，要等24小时");
    assert_clean("密码忘了，10:30去大厅");
}

#[test]
fn ordinary_numbers_are_not_secrets() {
    for text in [
        "12333",
        "打12333问问",
        "95512",
        "2024年",
        "输错3次",
        "6位",
        "24小时",
        "第1步",
        "六位数",
        "已经3天了",
        "100%",
        "第2024001号",
    ] {
        assert_clean(text);
    }
}

#[test]
fn amounts_and_quantities_are_not_secrets() {
    for text in [
        "123456元",
        "100000块",
        "1,000,000元",
        "交了 120000 元",
        "3600秒",
        "¥123456",
        "￥ 1234567",
        "100000人",
        "120000万",
        "123456个小时",
    ] {
        assert_clean(text);
    }
    // A phone, ID or card number never turns into an amount.
    assert_eq!(kinds("13812345678人工服务"), [PhoneNumber]);
}

#[test]
fn dates_are_not_secrets() {
    for text in [
        "2024-10-01",
        "2024.10.01",
        "2024/10/01",
        "2024年10月1日",
        "2024-10",
        "01/10/2024",
        "2024-10-01 10:30",
        "2024.10.1-2024.12.31期间",
        "1990.1.1",
    ] {
        assert_clean(text);
    }
}

#[test]
fn hotlines_are_not_secrets() {
    for text in [
        "400-810-8888",
        "4008108888",
        "800 123 4567",
        "12333、12345都打不通",
        "12333 95512",
    ] {
        assert_clean(text);
    }
}

#[test]
fn a_keyword_right_before_makes_even_ordinary_numbers_secrets() {
    assert_eq!(kinds("密码是1990-01-01"), [Password]);
    assert_eq!(kinds("密码：4008108888"), [Password]);
    assert_eq!(kinds("密码是123456元"), [Password]);
}

#[test]
fn secrets_are_listed_in_order_of_appearance() {
    let g = guard("手机13812345678，密码123456，验证码4821，卡号6222021234567890");
    assert_eq!(g.secrets, [PhoneNumber, Password, SmsCode, CardNumber]);
    assert_eq!(
        g.redacted,
        "手机******，密码******，验证码******，卡号******"
    );
}

#[test]
fn spans_cover_exactly_the_secret() {
    let text = "用 123-456 当密码";
    let found = find_secrets(text);
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].span.clone()], "123-456");
}

#[test]
fn no_digit_of_a_secret_survives_redaction() {
    for text in [
        "用123456当密码可以吗",
        "密码是 1 2 3 4 5 6，手机138-1234-5678",
        "身份证11010519491231002X，卡6222 0212 3456 7890",
        "验证码：４８２１",
        "一\u{200b}二三四五六",
        "幺三八幺二三四五六七八",
        "+86 138 1234 5678",
    ] {
        let g = guard(text);
        assert!(!g.is_clean(), "{text:?}");
        for secret in find_secrets(text) {
            assert!(!g.redacted.contains(&text[secret.span]), "{text:?}");
        }
        assert!(
            !g.redacted.chars().any(is_any_digit),
            "{text:?} -> {}",
            g.redacted
        );
    }
}

#[test]
fn clean_text_comes_back_unchanged() {
    for text in [
        "",
        "电子社保卡密码忘了怎么办？",
        "拨打12333，按提示操作",
        "密码是几位数？6位吗",
        "\u{0}\u{1}\u{7f}\u{202e}abc",
    ] {
        assert_clean(text);
    }
}

#[test]
fn labels_are_chinese() {
    assert_eq!(Pin.label(), "密码");
    assert_eq!(Password.label(), "密码");
    assert_eq!(SmsCode.label(), "验证码");
    assert_eq!(IdNumber.label(), "身份证号");
    assert_eq!(PhoneNumber.label(), "手机号");
    assert_eq!(CardNumber.label(), "银行卡号");
}

#[test]
fn kinds_round_trip_through_serde() {
    let json = serde_json::to_string(&[Pin, SmsCode]).unwrap();
    assert_eq!(json, r#"["Pin","SmsCode"]"#);
    assert_eq!(
        serde_json::from_str::<Vec<SecretKind>>(&json).unwrap(),
        [Pin, SmsCode]
    );
}

#[test]
fn huge_input_is_handled() {
    let one_run = "1 ".repeat(50_000);
    assert_redacted(&one_run, &format!("{MASK} "), &[Pin]);

    let many = "用123456当密码，2024年输错3次，".repeat(5_000);
    let g = guard(&many);
    assert_eq!(g.secrets.len(), 5_000);
    assert!(!g.redacted.contains("123456"));

    let invisible = format!("一{}二", "\u{200b}".repeat(100_000));
    assert_clean(&invisible);
    let numerals = "一\u{200b}".repeat(50_000);
    assert_eq!(kinds(&numerals), [Pin]);
    assert_clean(&"密码是".repeat(40_000));
    assert_clean(&"x".repeat(100_000));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for round in 0..50 {
        let bytes: Vec<u8> = (0..4096 + round * 37)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let g = guard(&text);
        assert_eq!(g.is_clean(), g.redacted == text);
    }
}

fn piece() -> impl Strategy<Value = String> {
    let separators = vec![
        " ", " ", "-", ".", "、", "，", "/", "_", "—", "\u{3000}", "\u{200b}", "\u{feff}",
        "\u{202e}",
    ];
    // No units or currency signs: an amount keeps its digits on purpose.
    let words = vec![
        "一",
        "二",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "零",
        "〇",
        "幺",
        "壹",
        "陆",
        "十",
        "密码",
        "是",
        "为",
        "验证码",
        "PIN",
        "用",
        "当",
        "可以吗",
        "手机",
        "X",
        "+86",
        "５",
        "０",
        "\n",
        "😭",
    ];
    prop_oneof![
        8 => (0u8..10).prop_map(|d| char::from(b'0' + d).to_string()),
        2 => prop::sample::select(separators).prop_map(str::to_string),
        2 => prop::sample::select(words).prop_map(str::to_string),
    ]
}

proptest! {
    #[test]
    fn guard_never_panics_on_any_string(text in any::<String>()) {
        let g = guard(&text);
        prop_assert_eq!(g.is_clean(), g.redacted == text);
    }

    #[test]
    fn no_number_of_six_digits_survives_unless_ordinary(pieces in prop::collection::vec(piece(), 0..80)) {
        let text = pieces.concat();
        let g = guard(&text);
        prop_assert_eq!(g.is_clean(), g.redacted == text);
        // What is left of six digits or more reads as an ordinary number.
        for run in Scan::new(&g.redacted).runs {
            prop_assert!(
                run.digits.len() < 6 || is_ordinary_shape(&run),
                "{:?} -> {:?}", text, g.redacted
            );
        }
    }
}

/// How one digit may be typed: ASCII, full-width, Chinese (with the radio and financial readings), circled,
/// dingbat, keycap, mathematical bold, Arabic-Indic.
pub(super) fn render_digit(d: u8, script: u8) -> String {
    let i = usize::from(d);
    let pick = |set: &str| set.chars().nth(i).unwrap().to_string();
    match script {
        0 => char::from(b'0' + d).to_string(),
        1 => pick("０１２３４５６７８９"),
        2 => pick("零一二三四五六七八九"),
        3 => pick("〇幺两三四五六拐八勾"),
        4 => pick("洞壹贰叁肆伍陆柒捌玖"),
        5 => pick("○一兩叄四五陸七八九"),
        6 => pick("⓪①②③④⑤⑥⑦⑧⑨"),
        7 => pick("⓿❶❷❸❹❺❻❼❽❾"),
        8 => format!("{d}\u{fe0f}\u{20e3}"),
        9 => pick("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"),
        _ => pick("٠١٢٣٤٥٦٧٨٩"),
    }
}

/// A number typed with `digits`: one script for the whole number or one per digit, and between digits
/// nothing or a separator of the kinds citizens use (spaces, double spaces, dashes, commas, dots, emoji,
/// zero-width chars).
pub(super) fn typed(digits: Vec<u8>) -> impl Strategy<Value = String> {
    let n = digits.len();
    let separators = vec![
        "", "", "", " ", "  ", "-", " - ", ",", "，", "、", ".", "·", "_", "/", "\u{200b}",
        "\u{3000}", "🌸", "👍🏻", "*",
    ];
    (
        prop_oneof![
            (0u8..11).prop_map(move |s| vec![s; n]),
            prop::collection::vec(0u8..11, n),
        ],
        prop::sample::select(separators.clone()),
        prop::collection::vec(prop::sample::select(separators), n),
        any::<bool>(),
    )
        .prop_map(move |(scripts, one_sep, seps, uniform)| {
            let mut text = String::new();
            for (k, &d) in digits.iter().enumerate() {
                if k > 0 {
                    text.push_str(if uniform { one_sep } else { seps[k] });
                }
                text.push_str(&render_digit(d, scripts[k]));
            }
            text
        })
}

pub(super) fn digits_of(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..10, len)
}

/// An SMS code of four to eight digits that is not one of the five-digit hotlines: after a code word with no
/// connector, a hotline is read as the hotline ("收不到验证码 95588 能查吗"), so such a code is the one
/// case the guard lets through by design (26 of the 100,000 five-digit codes).
pub(super) fn code() -> impl Strategy<Value = Vec<u8>> {
    digits_of(4..=8).prop_filter("a five-digit hotline", |d| {
        let ascii: String = d.iter().map(|&x| char::from(b'0' + x)).collect();
        !Scan::new(&ascii).runs.iter().any(is_short_hotline)
    })
}

pub(super) fn mobile() -> impl Strategy<Value = Vec<u8>> {
    (3u8..10, digits_of(9..=9)).prop_map(|(second, rest)| {
        let mut d = vec![1, second];
        d.extend(rest);
        d
    })
}

pub(super) fn id_number() -> impl Strategy<Value = Vec<u8>> {
    digits_of(17..=17).prop_map(|mut d| {
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = d.iter().zip(WEIGHTS).map(|(&x, w)| u32::from(x) * w).sum();
        // A check value of 10 is written X; keep the digits-only numbers here.
        d.push(((12 - sum % 11) % 11 % 10) as u8);
        d
    })
}

pub(super) fn luhn_card() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![15usize, 16, 17, 18]),
        digits_of(18..=18),
    )
        .prop_map(|(len, d)| {
            let mut d: Vec<u8> = std::iter::once(6)
                .chain(d.into_iter().take(len - 1))
                .collect();
            let sum: u32 = d
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &x)| {
                    let x = u32::from(x) * if i % 2 == 0 { 2 } else { 1 };
                    if x > 9 { x - 9 } else { x }
                })
                .sum();
            d.push(((10 - sum % 10) % 10) as u8);
            d
        })
}

/// A realistic sentence around a secret: `{before}{secret}{after}`.
pub(super) fn sentence(
    before: Vec<&'static str>,
    secret: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = (Vec<u8>, String)> {
    let after = vec![
        "",
        "，可以吗",
        " 对不对",
        "，怎么不对？",
        "。帮我看看",
        "！！",
        " 😭",
    ];
    (
        prop::sample::select(before),
        secret.prop_flat_map(|d| (Just(d.clone()), typed(d))),
        prop::sample::select(after),
    )
        .prop_map(|(b, (digits, secret), a)| (digits, format!("{b}{secret}{a}")))
}

/// Whether the ASCII digits of `secret` can still be read, in any script, from `text`.
pub(super) fn readable(text: &str, secret: &[u8]) -> bool {
    let digits: String = text
        .chars()
        .filter_map(|c| match crate::text::numerals::digit(c) {
            Some((d, _)) => Some(char::from(b'0' + d)),
            None if c.is_alphanumeric() => Some('|'),
            None => None,
        })
        .collect();
    let secret: String = secret.iter().map(|&d| char::from(b'0' + d)).collect();
    digits.contains(&secret)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn pins_in_any_script_and_spacing_are_caught(
        (digits, text) in sentence(vec!["密码是", "我的密码", "密码：", "PIN ", "密码改成了", "新密码设的"], digits_of(6..=6))
    ) {
        let g = guard(&text);
        prop_assert!(g.must_delete(), "{:?} -> {:?}", text, g);
        prop_assert!(!readable(&g.redacted, &digits), "{:?} -> {:?}", text, g.redacted);
    }

    #[test]
    fn sms_codes_after_a_code_word_are_caught(
        (digits, text) in sentence(vec!["验证码", "验证码是", "短信验证码：", "校验码为 ", "动态码", "收到的验证码"], code())
    ) {
        let g = guard(&text);
        prop_assert!(g.must_delete(), "{:?} -> {:?}", text, g);
        prop_assert!(!readable(&g.redacted, &digits), "{:?} -> {:?}", text, g.redacted);
    }

    #[test]
    fn mobile_numbers_are_caught_with_or_without_a_word(
        (digits, text) in sentence(vec!["", "手机", "我的手机号是", "电话 ", "+86 ", "号码：", "老号码"], mobile())
    ) {
        let g = guard(&text);
        prop_assert!(g.must_delete(), "{:?} -> {:?}", text, g);
        prop_assert!(!readable(&g.redacted, &digits), "{:?} -> {:?}", text, g.redacted);
    }

    #[test]
    fn id_numbers_are_caught_with_or_without_a_word(
        (digits, text) in sentence(vec!["", "身份证", "身份证号是", "帮我妈查一下", "证件号："], id_number())
    ) {
        let g = guard(&text);
        prop_assert!(g.must_delete(), "{:?} -> {:?}", text, g);
        prop_assert!(!readable(&g.redacted, &digits), "{:?} -> {:?}", text, g.redacted);
    }

    #[test]
    fn bank_card_numbers_are_caught_with_or_without_a_word(
        (digits, text) in sentence(vec!["", "卡号", "银行卡", "我的卡是", "社保卡绑的卡 "], luhn_card())
    ) {
        let g = guard(&text);
        prop_assert!(g.must_delete(), "{:?} -> {:?}", text, g);
        prop_assert!(!readable(&g.redacted, &digits), "{:?} -> {:?}", text, g.redacted);
    }

    #[test]
    fn two_secrets_in_one_message_are_both_caught(
        (pin, first) in sentence(vec!["密码是", "密码"], digits_of(6..=6)),
        (phone, second) in sentence(vec!["手机", "电话"], mobile()),
    ) {
        let text = format!("{first}，{second}");
        let g = guard(&text);
        prop_assert!(g.must_delete());
        prop_assert!(!readable(&g.redacted, &pin), "{:?} -> {:?}", text, g.redacted);
        prop_assert!(!readable(&g.redacted, &phone), "{:?} -> {:?}", text, g.redacted);
    }
}

#[test]
fn a_position_names_part_of_a_pin_even_without_a_keyword() {
    assert_eq!(kinds("最后两位是07"), [Password]);
    assert_eq!(kinds("后三位629我记得"), [Password]);
    assert_eq!(kinds("前三个是三零九"), [Password]);
    assert_eq!(kinds("前面是264，中间忘了，最后是97"), [Password, Password]);
    assert_eq!(kinds("密碼後兩碼是〇九"), [Password]);
    // A count after a position is no secret.
    assert_clean("前面还有3个人");
    assert_clean("最后1次机会");
}

#[test]
fn the_rest_of_a_split_pin_is_masked_too() {
    assert_redacted(
        "密码847开头，26结尾",
        "密码******开头，******结尾",
        &[Password, Password],
    );
    assert_eq!(kinds("密码是66加77加88"), [Password, Password, Password]);
    assert_eq!(kinds("密码是我生日0312再加88"), [Password, Password]);
    // Counts, years and hotlines after a password are not part of it.
    assert_eq!(kinds("密码是123456，输错3次了"), [Password]);
    assert_eq!(kinds("密码是654321，打12333问过了"), [Password]);
}

#[test]
fn a_code_sent_to_be_typed_in_is_an_sms_code() {
    assert_eq!(kinds("给我发了个9707让我输"), [SmsCode]);
    assert_eq!(kinds("刚发来的 5531 要输吗"), [SmsCode]);
    assert_clean("收到12333的短信");
    assert_clean("收到2024年的通知");
}

#[test]
fn decimals_landlines_postcodes_named_after_and_approximate_amounts_are_ordinary() {
    for text in [
        "医保报销了1500.00",
        "每月3000.00",
        "电话 0571 8765 4321",
        "社保局电话87654321打不通",
        "国外打+86 10 12333吗",
        "310000是杭州的邮编吗",
        "我在310012这个邮编的地方办的卡",
        "提示(100035)网络错误",
        "一共交了180000多",
        "卡背面写着NO.0012345",
        "版本号 V3.2.10 build 202405",
    ] {
        assert_clean(text);
    }
    // A number put up for judgement is a secret as much as one typed alone.
    assert_eq!(kinds("我的手机号是13912345678这样安全吗"), [PhoneNumber]);
    assert_eq!(kinds("用123456这种可以吗"), [Pin]);
    // Typing a PIN and being told it is wrong is still a PIN.
    assert_eq!(kinds("我输入的389284提示错误"), [Pin]);
}

#[test]
fn a_numeral_beside_a_long_number_joins_it_when_that_makes_it_secret_sized() {
    assert_eq!(kinds("用四·٤·五·八·8·𝟎。帮我看看"), [Pin]);
    assert_eq!(kinds("用8 7 9 2 5 六我在排队"), [Pin]);
    for text in [
        "12333一直占线",
        "2024一月办的",
        "周一到周五8:30-17:00",
        "打了10086一直没人接",
    ] {
        assert_clean(text);
    }
}

#[test]
fn a_hotline_after_a_code_word_stays_unless_a_connector_says_it_is_the_code() {
    assert_clean("收不到验证码 95588 能查吗");
    assert_clean("验证码95528发的吗");
    assert_eq!(kinds("验证码是95528"), [SmsCode]);
    assert_eq!(kinds("验证码：12333"), [SmsCode]);
}

#[test]
fn every_service_number_the_redaction_keeps_is_a_hotline_to_the_guard() {
    for number in crate::text::redact::SERVICE_NUMBERS {
        assert_clean(&format!("密码忘了，打{number}问问"));
        let n: u32 = number.parse().unwrap();
        assert!(SHORT_HOTLINES.contains(&n), "{number}");
    }
}
