//! Who may use the console: staff accounts with argon2 password hashes, a signed session cookie that
//! every replica accepts, CSRF tokens bound to the session, and a brake on guessed passwords.
//!
//! The cookie is `payload.mac`: the payload names the account (empty before sign-in), when the session
//! ends and a random nonce; the mac is HMAC-SHA256 of it under the console secret
//! (`SHEBAO_CONSOLE_SECRET`, or random per process when unset: then a restart signs everyone out and
//! replicas do not share sessions). The CSRF token of a form is HMAC of `csrf|payload`, so it is valid
//! only with the cookie it was issued with, and a sign-in or sign-out changes it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

/// The session cookie's name.
pub const COOKIE: &str = "shebao_console";

/// How long a signed-in session lasts, in seconds.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// Failed sign-ins (per account name and per client address) allowed before the brake engages.
pub const FREE_FAILURES: u32 = 5;

/// The first wait once the brake engages, in seconds; it doubles with each further failure, up to
/// [`MAX_WAIT_SECONDS`].
pub const FIRST_WAIT_SECONDS: i64 = 60;

/// The longest wait between sign-in attempts.
pub const MAX_WAIT_SECONDS: i64 = 3600;

/// Why the staff accounts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{origin}:{line}: expected `name:argon2-hash` ({reason})")]
    Malformed {
        origin: String,
        line: usize,
        reason: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("no staff accounts: give --accounts FILE or SHEBAO_CONSOLE_ACCOUNTS")]
    None,
}

/// The staff who may sign in, by name, with their argon2 PHC hashes.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    hashes: HashMap<String, String>,
}

impl Accounts {
    /// Reads `name:hash` lines (blank lines and `#` comments skipped). `origin` names the text in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Accounts, AccountsError> {
        let mut hashes = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = |reason: &str| AccountsError::Malformed {
                origin: origin.to_string(),
                line: n + 1,
                reason: reason.to_string(),
            };
            let (name, hash) = line.split_once(':').ok_or_else(|| malformed("no `:`"))?;
            let name = name.trim();
            if name.is_empty() {
                return Err(malformed("empty name"));
            }
            PasswordHash::new(hash.trim())
                .map_err(|e| malformed(&format!("not a PHC hash: {e}")))?;
            hashes.insert(name.to_string(), hash.trim().to_string());
        }
        Ok(Accounts { hashes })
    }

    /// Reads the accounts file, or the `;`- or newline-separated lines of `env` when no file is given.
    pub fn load(file: Option<&Path>, env: Option<&str>) -> Result<Accounts, AccountsError> {
        let accounts = match (file, env) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|source| AccountsError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Accounts::parse(&text, &path.display().to_string())?
            }
            (None, Some(env)) => {
                Accounts::parse(&env.replace(';', "\n"), "SHEBAO_CONSOLE_ACCOUNTS")?
            }
            (None, None) => Accounts::default(),
        };
        if accounts.hashes.is_empty() {
            return Err(AccountsError::None);
        }
        Ok(accounts)
    }

    /// Whether `password` is `name`'s. Slow on purpose (argon2); an unknown name costs the same.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let argon = argon2::Argon2::default();
        match self.hashes.get(name).map(|h| PasswordHash::new(h)) {
            Some(Ok(hash)) => argon.verify_password(password.as_bytes(), &hash).is_ok(),
            _ => {
                // Spend the time of a real check so a wrong name is not told apart by timing.
                let _ = hash_password(password);
                false
            }
        }
    }
}

/// An argon2id PHC string for `password` with the library's recommended parameters and a random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// What the session cookie says, once its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The signed-in account; empty before sign-in.
    #[serde(rename = "u")]
    pub user: String,
    /// Unix seconds after which the cookie is refused.
    #[serde(rename = "e")]
    pub expires: i64,
    #[serde(rename = "n")]
    nonce: String,
}

impl Session {
    pub fn signed_in(&self) -> bool {
        !self.user.is_empty()
    }
}

/// Signs and checks session cookies and CSRF tokens.
pub struct Keys {
    key: hmac::Key,
    rng: SystemRandom,
}

impl Keys {
    /// Keys from the shared secret, or from 32 random bytes when there is none.
    pub fn new(secret: Option<&[u8]>) -> Keys {
        let rng = SystemRandom::new();
        let key = match secret {
            Some(secret) => hmac::Key::new(hmac::HMAC_SHA256, secret),
            None => hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("the OS random source"),
        };
        Keys { key, rng }
    }

    /// A new session for `user` (empty: not signed in) valid from `now`, and its cookie value.
    pub fn issue(&self, user: &str, now: i64) -> (Session, String) {
        let mut nonce = [0u8; 16];
        self.rng.fill(&mut nonce).expect("the OS random source");
        let session = Session {
            user: user.to_string(),
            expires: now + SESSION_SECONDS,
            nonce: B64.encode(nonce),
        };
        let payload = B64.encode(serde_json::to_vec(&session).expect("plain data"));
        let mac = B64.encode(hmac::sign(&self.key, payload.as_bytes()));
        (session, format!("{payload}.{mac}"))
    }

    /// The session a cookie value holds, if its signature is ours and it has not expired.
    pub fn open(&self, cookie: &str, now: i64) -> Option<Session> {
        let (payload, mac) = cookie.split_once('.')?;
        let mac = B64.decode(mac).ok()?;
        hmac::verify(&self.key, payload.as_bytes(), &mac).ok()?;
        let session: Session = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (session.expires > now).then_some(session)
    }

    /// The CSRF token that forms carry with the cookie value `cookie`.
    pub fn csrf(&self, cookie: &str) -> String {
        let payload = cookie.split_once('.').map_or(cookie, |(p, _)| p);
        B64.encode(hmac::sign(&self.key, format!("csrf|{payload}").as_bytes()))
    }

    /// Whether `token` is the CSRF token of `cookie` (constant time).
    pub fn csrf_ok(&self, cookie: &str, token: &str) -> bool {
        let payload = cookie.split_once('.').map_or(cookie, |(p, _)| p);
        match B64.decode(token) {
            Ok(mac) => hmac::verify(&self.key, format!("csrf|{payload}").as_bytes(), &mac).is_ok(),
            Err(_) => false,
        }
    }
}

/// Failed sign-ins by key (an account name or a client address), and when the next try is allowed.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl Throttle {
    /// Seconds to wait before `key` may try again at `now` (0: go ahead).
    pub fn wait(&self, key: &str, now: i64) -> i64 {
        let failures = self.failures.lock().expect("throttle lock");
        match failures.get(key) {
            Some(&(n, last)) if n >= FREE_FAILURES => {
                let wait =
                    (FIRST_WAIT_SECONDS << (n - FREE_FAILURES).min(10)).min(MAX_WAIT_SECONDS);
                (last + wait - now).max(0)
            }
            _ => 0,
        }
    }

    /// Counts a failed sign-in of `key` at `now`.
    pub fn failed(&self, key: &str, now: i64) {
        let mut failures = self.failures.lock().expect("throttle lock");
        // Forget failures older than the longest wait, so the map does not grow without bound.
        failures.retain(|_, (_, last)| now - *last < MAX_WAIT_SECONDS * 2);
        let entry = failures.entry(key.to_string()).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
    }

    /// Clears `key` after a successful sign-in.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PHC hash with the smallest parameters argon2 accepts, so tests stay quick.
    pub fn cheap_hash(password: &str) -> String {
        let params = argon2::Params::new(8, 1, 1, None).unwrap();
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        argon
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_account_signs_in_with_its_password_only() {
        let text = format!(
            "# staff\nwang:{}\n\nli:{}\n",
            cheap_hash("春眠"),
            cheap_hash("不觉晓")
        );
        let accounts = Accounts::parse(&text, "accounts").unwrap();
        assert!(accounts.verify("wang", "春眠"));
        assert!(!accounts.verify("wang", "不觉晓"));
        assert!(accounts.verify("li", "不觉晓"));
        assert!(!accounts.verify("zhao", "春眠"));
    }

    #[test]
    fn a_line_without_a_hash_names_its_line() {
        let err = Accounts::parse("wang:plaintext\n", "accounts.txt").unwrap_err();
        assert!(err.to_string().starts_with("accounts.txt:1:"), "{err}");
    }

    #[test]
    fn accounts_from_the_environment_are_separated_by_semicolons() {
        let env = format!("a:{};b:{}", cheap_hash("x"), cheap_hash("y"));
        let accounts = Accounts::load(None, Some(&env)).unwrap();
        assert!(accounts.verify("b", "y"));
        assert!(matches!(
            Accounts::load(None, None),
            Err(AccountsError::None)
        ));
    }

    #[test]
    fn a_hash_from_hash_password_verifies() {
        let line = format!("wang:{}", hash_password("长城"));
        assert!(Accounts::parse(&line, "t").unwrap().verify("wang", "长城"));
    }

    #[test]
    fn a_cookie_signed_with_one_secret_opens_on_every_replica_sharing_it_and_nowhere_else() {
        let (a, b, other) = (
            Keys::new(Some(b"shared")),
            Keys::new(Some(b"shared")),
            Keys::new(None),
        );
        let (session, cookie) = a.issue("wang", 100);
        assert_eq!(b.open(&cookie, 101), Some(session));
        assert_eq!(other.open(&cookie, 101), None);
        assert_eq!(b.open(&cookie, 100 + SESSION_SECONDS), None, "expired");
        let forged = cookie.replacen('e', "f", 1);
        assert_eq!(b.open(&forged, 101), None);
    }

    #[test]
    fn a_csrf_token_is_valid_only_with_its_own_cookie() {
        let keys = Keys::new(None);
        let (_, one) = keys.issue("wang", 0);
        let (_, two) = keys.issue("wang", 0);
        let token = keys.csrf(&one);
        assert!(keys.csrf_ok(&one, &token));
        assert!(!keys.csrf_ok(&two, &token));
        assert!(!keys.csrf_ok(&one, ""));
        assert!(!keys.csrf_ok(&one, "not base64!"));
    }

    #[test]
    fn guessing_is_slowed_after_five_failures_and_a_success_clears_it() {
        let throttle = Throttle::default();
        for n in 0..FREE_FAILURES {
            assert_eq!(throttle.wait("wang", n as i64), 0);
            throttle.failed("wang", n as i64);
        }
        assert_eq!(throttle.wait("wang", 4), FIRST_WAIT_SECONDS);
        assert_eq!(throttle.wait("wang", 4 + FIRST_WAIT_SECONDS), 0);
        throttle.failed("wang", 100);
        assert_eq!(
            throttle.wait("wang", 100),
            FIRST_WAIT_SECONDS * 2,
            "doubles"
        );
        assert_eq!(throttle.wait("li", 100), 0, "per key");
        throttle.succeeded("wang");
        assert_eq!(throttle.wait("wang", 100), 0);
    }
}
