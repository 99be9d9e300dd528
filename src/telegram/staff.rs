//! Commands for support staff, in the chats listed with `--staff`: `/why`, `/unanswered`, `/reload`, `/stats`.
//!
//! For any other chat these commands do not exist: the adapter only looks for them in a staff chat, so
//! everyone else gets the engine's "unknown command" reply. Staff chats are otherwise ordinary chats
//! (staff can test the bot there), but what happens in them is not counted or kept for review.

use std::time::Duration;

use crate::cli;
use crate::knowledge::MAX_MESSAGE_CHARS;
use crate::live::Reload;
use crate::review::{self, Stats};
use crate::session::Session;
use crate::store::{Store, StoreError};

/// Groups shown by `/unanswered`.
pub const UNANSWERED_SHOWN: usize = 20;

/// The staff commands, with the descriptions shown in a staff chat's command menu.
pub const MENU: [(&str, &str); 4] = [
    ("why", "（工作人员）/why 问题：看匹配到哪条、得分和原因"),
    (
        "unanswered",
        "（工作人员）答不上的问题，前20组；/unanswered 7 只看7天",
    ),
    ("reload", "（工作人员）重新加载知识库"),
    ("stats", "（工作人员）过去24小时和7天的统计"),
];

const WHY_USAGE: &str = "用法：/why 后面跟一个问题，比如 /why 密码忘了怎么办";
const UNANSWERED_USAGE: &str =
    "用法：/unanswered 看保存期内全部；/unanswered 7 只看最近7天（天数写阿拉伯数字）。";

/// A staff command as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// `/why <question>`: the `shebao ask --explain` view.
    Why(String),
    /// `/unanswered [days]`: the most asked groups, over the retention period or the last `days`.
    Unanswered(Option<String>),
    Reload,
    Stats,
}

impl StaffCommand {
    /// Reads `/why question`, `/stats@bot`, ...; `None` for anything else (citizens' commands included).
    pub fn parse(text: &str) -> Option<StaffCommand> {
        let rest = text.trim().strip_prefix('/')?;
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let (word, args) = rest.split_at(end);
        let name = word.split('@').next()?.to_ascii_lowercase();
        let args = args.trim();
        match name.as_str() {
            "why" => Some(StaffCommand::Why(args.to_string())),
            "unanswered" => Some(StaffCommand::Unanswered(
                (!args.is_empty()).then(|| args.to_string()),
            )),
            "reload" => Some(StaffCommand::Reload),
            "stats" => Some(StaffCommand::Stats),
            _ => None,
        }
    }

    /// The command's name, for the log (never its argument).
    pub fn kind(&self) -> &'static str {
        match self {
            StaffCommand::Why(_) => "why",
            StaffCommand::Unanswered(_) => "unanswered",
            StaffCommand::Reload => "reload",
            StaffCommand::Stats => "stats",
        }
    }
}

/// Runs a staff command; returns the messages to send back. `command` holds only redacted text.
pub async fn run(ctx: &Session, command: StaffCommand) -> Vec<String> {
    let text = match command {
        StaffCommand::Why(question) if question.is_empty() => WHY_USAGE.to_string(),
        StaffCommand::Why(question) => {
            let kb = ctx.knowledge.current();
            let mut out = Vec::new();
            let opts = cli::ask::Options {
                explain: true,
                json: false,
            };
            match cli::ask::one(&kb, &question, opts, &mut out) {
                Ok(()) => String::from_utf8_lossy(&out).into_owned(),
                Err(e) => format!("出错了：{e}"),
            }
        }
        StaffCommand::Reload => {
            let versions = ctx.store.history();
            let outcome = crate::live::refresh(&ctx.knowledge, versions.as_deref()).await;
            tracing::info!(outcome = %outcome.summary(), "reload requested by staff");
            // The other replicas sharing the store reload too (each validates what it loads);
            // not after a refusal, which they would only repeat.
            if matches!(outcome, Reload::Updated(_) | Reload::Unchanged)
                && let Err(e) = ctx.store.announce_reload().await
            {
                tracing::warn!(error = %e, "could not announce the reload to other replicas");
            }
            outcome.report()
        }
        StaffCommand::Unanswered(Some(days)) if days.parse::<u64>().is_err() => {
            UNANSWERED_USAGE.to_string()
        }
        StaffCommand::Unanswered(days) => {
            let kept = ctx.retention.as_secs() / 86_400;
            let days = days
                .and_then(|d| d.parse::<u64>().ok())
                .map_or(kept, |d| d.min(kept));
            let since = crate::unix_now() - (days * 86_400) as i64;
            let read = async {
                Ok::<_, StoreError>((
                    ctx.store.unanswered(since).await?,
                    ctx.store.not_helpful(since).await?,
                ))
            };
            match read.await {
                Ok((records, not_helpful)) => format!(
                    "{}\n\n{}",
                    review::message(&review::group(records), days, UNANSWERED_SHOWN),
                    review::not_helpful_message(&not_helpful, UNANSWERED_SHOWN)
                ),
                Err(e) => format!("读不了记录：{e}"),
            }
        }
        StaffCommand::Stats => match stats(&*ctx.store, &ctx.staff).await {
            Ok((day, week)) => review::stats_message(&day, &week),
            Err(e) => format!("读不了记录：{e}"),
        },
    };
    vec![fit(text)]
}

/// Activity over the last day and the last week, leaving out the staff's own chats.
async fn stats(store: &dyn Store, staff: &[i64]) -> Result<(Stats, Stats), StoreError> {
    let now = crate::unix_now();
    let mut over = Vec::with_capacity(2);
    for period in [Duration::from_secs(86_400), Duration::from_secs(7 * 86_400)] {
        let since = now - period.as_secs() as i64;
        over.push(Stats {
            conversations: store.active_chats(since, staff).await?,
            counts: store.counts(since).await?,
        });
    }
    Ok((over[0], over[1]))
}

/// Cuts a text to what one Telegram message holds, keeping its last line (for `/why`, the sentence
/// that says what the bot did and why) when that line is short enough to keep.
fn fit(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let last = text.trim_end().rsplit('\n').next().unwrap_or_default();
    let tail = if last.chars().count() < MAX_MESSAGE_CHARS / 4 {
        format!("\n\n{last}")
    } else {
        String::new()
    };
    let room = MAX_MESSAGE_CHARS - 1 - tail.chars().count();
    let mut cut: String = text.chars().take(room).collect();
    cut.push('…');
    cut.push_str(&tail);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_commands_are_read_with_or_without_the_bot_name() {
        assert_eq!(
            StaffCommand::parse("/why 密码 忘了"),
            Some(StaffCommand::Why("密码 忘了".into()))
        );
        assert_eq!(
            StaffCommand::parse("/why@shebao_bot  密码忘了 "),
            Some(StaffCommand::Why("密码忘了".into()))
        );
        assert_eq!(StaffCommand::parse("/Stats"), Some(StaffCommand::Stats));
        assert_eq!(
            StaffCommand::parse("/reload@bot"),
            Some(StaffCommand::Reload)
        );
        assert_eq!(
            StaffCommand::parse("/unanswered"),
            Some(StaffCommand::Unanswered(None))
        );
        assert_eq!(
            StaffCommand::parse("/unanswered 7"),
            Some(StaffCommand::Unanswered(Some("7".into())))
        );
        for other in ["/start", "/help", "why 密码", "/whyme", ""] {
            assert_eq!(StaffCommand::parse(other), None, "{other}");
        }
    }

    #[test]
    fn a_long_reply_is_cut_to_one_message() {
        let text = fit("很".repeat(5000));
        assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn a_long_why_keeps_its_last_sentence() {
        let text = fit(format!("{}\n\n答了 forgot_pin，因为……", "很".repeat(5000)));
        assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS);
        assert!(text.ends_with("…\n\n答了 forgot_pin，因为……"), "{text}");
    }
}
