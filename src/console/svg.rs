//! The trends chart drawn on the server as SVG: one line per kind of event, one point per day, so the page
//! needs no script and the picture is the same in every browser.

use crate::store::Counts;

/// One line of the chart: its name and colour, and how to read its value off a day's counts.
pub struct Series {
    pub name: &'static str,
    pub colour: &'static str,
    pub value: fn(&Counts) -> u64,
}

/// The kinds of event the staff follow over time, in the order of the CSV columns.
pub const SERIES: [Series; 7] = [
    Series {
        name: "问题",
        colour: "#1d5c96",
        value: |c| c.answered + c.clarified + c.fallbacks,
    },
    Series {
        name: "回答",
        colour: "#2e8b57",
        value: |c| c.answered,
    },
    Series {
        name: "反问",
        colour: "#d49a00",
        value: |c| c.clarified,
    },
    Series {
        name: "转人工",
        colour: "#c0392b",
        value: |c| c.fallbacks,
    },
    Series {
        name: "没帮助",
        colour: "#8e44ad",
        value: |c| c.not_helpful,
    },
    Series {
        name: "完成重置",
        colour: "#16a085",
        value: |c| c.flows_completed,
    },
    Series {
        name: "拦截敏感信息",
        colour: "#7f8c8d",
        value: |c| c.secrets,
    },
];

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 36.0;

/// The chart of `days` (label, counts), oldest first.
pub fn chart(days: &[(String, Counts)]) -> String {
    let max = days
        .iter()
        .flat_map(|(_, c)| SERIES.iter().map(move |s| (s.value)(c)))
        .max()
        .unwrap_or(0)
        .max(1);
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let mut top = 1u64;
    while top < max {
        top = match top.to_string().chars().next() {
            Some('1') => top * 2,
            Some('2') => top / 2 * 5,
            _ => top * 2,
        };
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if days.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (days.len() - 1) as f64
        }
    };
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / top as f64);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/>"##
    );
    for tick in 0..=4u64 {
        let v = top * tick / 4;
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end" fill="#555">{v}</text>"##,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y(v) + 4.0,
            y = y(v)
        ));
    }
    let every = days.len().div_ceil(8).max(1);
    for (i, (label, _)) in days.iter().enumerate() {
        // Every `every`-th day, and the last when it does not crowd the one before.
        if i % every == 0 || (i + 1 == days.len() && i % every > every / 2) {
            svg.push_str(&format!(
                r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
                x(i),
                HEIGHT - BOTTOM + 16.0,
                escape(label)
            ));
        }
    }
    for (n, s) in SERIES.iter().enumerate() {
        let points: Vec<String> = days
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("{:.1},{:.1}", x(i), y((s.value)(c))))
            .collect();
        svg.push_str(&format!(
            r#"<polyline class="series" data-name="{}" fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            s.name,
            s.colour,
            points.join(" ")
        ));
        let lx = 8.0 + (n as f64) * (WIDTH - 16.0) / SERIES.len() as f64;
        svg.push_str(&format!(
            r##"<rect x="{lx:.1}" y="12" width="12" height="4" fill="{}"/><text x="{:.1}" y="18" fill="#222">{}</text>"##,
            s.colour,
            lx + 16.0,
            s.name
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The same days as CSV with a header line: `day`, then one column per series.
pub fn csv(days: &[(String, Counts)]) -> String {
    let mut out = String::from("day");
    for s in &SERIES {
        out.push(',');
        out.push_str(s.name);
    }
    out.push('\n');
    for (label, c) in days {
        out.push_str(label);
        for s in &SERIES {
            out.push_str(&format!(",{}", (s.value)(c)));
        }
        out.push('\n');
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days() -> Vec<(String, Counts)> {
        (0..3)
            .map(|d| {
                (
                    format!("12-0{}", d + 1),
                    Counts {
                        answered: 10 * d,
                        fallbacks: 3,
                        ..Counts::default()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn every_series_is_one_line_with_a_point_per_day() {
        let svg = chart(&days());
        assert_eq!(svg.matches("<polyline").count(), SERIES.len());
        let questions = svg.split("data-name=\"问题\"").nth(1).unwrap();
        let points = questions.split("points=\"").nth(1).unwrap();
        let points = points.split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 3);
        assert!(svg.contains(">12-03<"));
    }

    #[test]
    fn the_csv_has_a_column_per_series_and_a_row_per_day() {
        let csv = csv(&days());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "day,问题,回答,反问,转人工,没帮助,完成重置,拦截敏感信息"
        );
        assert_eq!(lines[3], "12-03,23,20,0,3,0,0,0");
    }

    #[test]
    fn an_empty_period_still_draws_axes() {
        let svg = chart(&[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
