//! Webhook mode end to end: `shebao webhook`, `shebao run --webhook` replicas behind the stand-in's webhook side, health and metrics.

use std::process::{Command, Output, Stdio};

use crate::botapi::{BotApi, TOKEN};

pub const SECRET: &str = "replica_Secret-42";

/// Runs `shebao ARGS` against the stand-in with the token and, when given, the webhook secret.
async fn shebao_with(api: &BotApi, args: &[&str], secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shebao"));
    command
        .args(args)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", api.url())
        .env_remove("SHEBAO_WEBHOOK_SECRET")
        .stdin(Stdio::null());
    if let Some(secret) = secret {
        command.env("SHEBAO_WEBHOOK_SECRET", secret);
    }
    tokio::task::spawn_blocking(move || command.output().expect("run shebao"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_set_registers_the_url_with_the_secret_and_only_the_kinds_the_bot_handles() {
    let api = BotApi::start().await;
    let url = "https://bot.example.org/telegram";
    let set = shebao_with(&api, &["webhook", "set", url], Some(SECRET)).await;
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        !text(&set.stdout).contains(SECRET),
        "the secret is never printed"
    );
    let webhook = api.webhook().expect("a webhook is set");
    assert_eq!(webhook["url"], url);
    assert_eq!(webhook["secret_token"], SECRET);
    assert_eq!(
        webhook["allowed_updates"],
        serde_json::json!(["message", "edited_message", "callback_query"])
    );

    let info = shebao_with(&api, &["webhook", "info"], None).await;
    assert!(info.status.success(), "{}", text(&info.stderr));
    assert!(
        text(&info.stdout).contains(&format!("url: {url}")),
        "{}",
        text(&info.stdout)
    );

    let delete = shebao_with(&api, &["webhook", "delete"], None).await;
    assert!(delete.status.success(), "{}", text(&delete.stderr));
    assert!(api.webhook().is_none());
    let info = shebao_with(&api, &["webhook", "info"], None).await;
    assert!(
        text(&info.stdout).contains("url: none"),
        "{}",
        text(&info.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_set_without_a_secret_refuses_and_exits_with_2() {
    let api = BotApi::start().await;
    for secret in [None, Some("has spaces")] {
        let set = shebao_with(
            &api,
            &["webhook", "set", "https://bot.example.org/telegram"],
            secret,
        )
        .await;
        assert_eq!(set.status.code(), Some(2), "{}", text(&set.stderr));
        assert!(
            text(&set.stderr).contains("SHEBAO_WEBHOOK_SECRET"),
            "{}",
            text(&set.stderr)
        );
    }
    assert!(api.webhook().is_none());
    assert!(api.calls_of("setwebhook").is_empty());
}
