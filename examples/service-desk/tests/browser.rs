//! The service desk in a real browser: headless Chromium driven through
//! chromedriver (WebDriver), against the app started on a free port with
//! a fresh SQLite database. Each test is one flow of the product guide.
//!
//! Needs `MFA_TEST_CHROMIUM` (the browser, e.g. `/usr/bin/chromium`) and
//! `MFA_TEST_CHROMEDRIVER` (e.g. `/usr/bin/chromedriver`); without them the
//! tests say so and pass, unless `MFA_REQUIRE_SERVICES=1` (CI), where
//! they fail. Screenshots of the key pages go to `MFA_SCREENSHOTS`
//! (`docs/screenshots` to refresh the README's), or under the target
//! directory.

use std::error::Error;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use mfa_core::Secret;
use mfa_core::otp::{Totp, TotpConfig};
use serde_json::json;
use service_desk::{Config, Running, start};
use tokio::sync::Semaphore;

type Result<T = ()> = core::result::Result<T, Box<dyn Error + Send + Sync>>;

/// At most two browsers at a time (2 cores; each Chromium is heavy).
static BROWSERS: Semaphore = Semaphore::const_new(2);

/// The browser and driver, or why the test cannot run.
fn services() -> Option<(String, String)> {
    let chromium = std::env::var("MFA_TEST_CHROMIUM").ok();
    let driver = std::env::var("MFA_TEST_CHROMEDRIVER").ok();
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            let required = std::env::var("MFA_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "MFA_REQUIRE_SERVICES=1 but MFA_TEST_CHROMIUM / MFA_TEST_CHROMEDRIVER are unset"
            );
            eprintln!(
                "skipped: set MFA_TEST_CHROMIUM=/usr/bin/chromium and \
                 MFA_TEST_CHROMEDRIVER=/usr/bin/chromedriver (apt-get install -y chromium \
                 chromium-driver) to run the browser tests"
            );
            None
        }
    }
}

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One browser on one fresh desk.
struct Desk {
    client: Client,
    desk: Option<Running>,
    base: String,
    data: PathBuf,
    _driver: Driver,
    _permit: tokio::sync::SemaphorePermit<'static>,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Desk {
    /// The desk on a free port (SQLite in a fresh data folder) and a
    /// browser pointed at it; `None` when the browser is not installed
    /// (and not required).
    async fn open(name: &str) -> Result<Option<Self>> {
        Self::open_on(name, None).await
    }

    /// The same on the database at `database_url`.
    async fn open_on(name: &str, database_url: Option<String>) -> Result<Option<Self>> {
        let Some((chromium, driver_path)) = services() else {
            return Ok(None);
        };
        let permit = BROWSERS.acquire().await?;
        let data = std::env::temp_dir().join(format!(
            "service-desk-{name}-{}-{}",
            std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos()
        ));
        let mut config = Config::new(&data);
        config.port = 0;
        config.database_url = database_url;
        let desk = start(config).await?;
        let base = desk.url();

        let port = free_port()?;
        let driver = Driver(
            Command::new(&driver_path)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        let profile = data.join("chromium-profile");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            return Err("capabilities are an object".into());
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(error) => return Err(format!("chromedriver did not start: {error}").into()),
            }
        };
        Ok(Some(Self {
            client,
            desk: Some(desk),
            base,
            data,
            _driver: driver,
            _permit: permit,
        }))
    }

    async fn close(mut self) -> Result {
        let client = self.client.clone();
        client.close().await?;
        if let Some(desk) = self.desk.take() {
            desk.stop().await?;
        }
        let _ = std::fs::remove_dir_all(&self.data);
        Ok(())
    }

    async fn go(&self, path: &str) -> Result {
        self.client.goto(&format!("{}{path}", self.base)).await?;
        Ok(())
    }

    /// The path (and query) the browser is on.
    async fn path(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Waits (up to 15 s) until the path starts with `prefix`.
    async fn on(&self, prefix: &str) -> Result {
        let started = Instant::now();
        loop {
            let path = self.path().await?;
            if path.starts_with(prefix) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(15) {
                let alerts = self.alerts().await;
                return Err(
                    format!("expected to be on {prefix}, still on {path} ({alerts})").into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element, once it is displayed (up to 15 s).
    async fn shown(&self, css: &str) -> Result<Element> {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && element.is_displayed().await.unwrap_or(false)
            {
                return Ok(element);
            }
            if started.elapsed() > Duration::from_secs(15) {
                return Err(format!("{css} never showed").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `needle`; returns the text.
    async fn text_contains(&self, css: &str, needle: &str) -> Result<String> {
        let started = Instant::now();
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return Ok(text);
            }
            if started.elapsed() > Duration::from_secs(15) {
                return Err(format!("{css} never said {needle:?}; it says {text:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn fill(&self, css: &str, text: &str) -> Result {
        let input = self.shown(css).await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    async fn click(&self, css: &str) -> Result {
        self.shown(css).await?.click().await?;
        Ok(())
    }

    /// Accepts the page's `confirm()` once it is up.
    async fn accept(&self) -> Result {
        let started = Instant::now();
        while self.client.accept_alert().await.is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err("no confirmation dialog".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// What the page's messages say (for failures).
    async fn alerts(&self) -> String {
        let mut said = Vec::new();
        if let Ok(alerts) = self.client.find_all(Locator::Css("[role=alert]")).await {
            for alert in alerts {
                if let Ok(text) = alert.text().await
                    && !text.is_empty()
                {
                    said.push(text);
                }
            }
        }
        if said.is_empty() {
            "no message on the page".to_owned()
        } else {
            said.join(" / ")
        }
    }

    async fn body(&self) -> Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    async fn sign_in(&self, email: &str) -> Result {
        self.go("/login").await?;
        let password = email.split('@').next().unwrap_or_default();
        self.fill("input[name=email]", email).await?;
        self.fill("input[name=password]", &format!("{password}-demo-pass"))
            .await?;
        self.click("form[action='/login'] button[type=submit]")
            .await?;
        self.on_any(&["/tickets", "/verify", "/security"]).await
    }

    async fn on_any(&self, prefixes: &[&str]) -> Result {
        let started = Instant::now();
        loop {
            let path = self.path().await?;
            if prefixes.iter().any(|p| path.starts_with(p)) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(15) {
                return Err(format!("expected one of {prefixes:?}, on {path}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sign_out(&self) -> Result {
        self.click("form[action='/logout'] button").await?;
        self.on("/login").await
    }

    /// Enables an authenticator app on the security page, the way a person
    /// does: reads the typed key from the page, "types" the app's code,
    /// keeps the recovery codes. Returns the app and the codes.
    async fn enable_app(&self, shots: Option<&str>) -> Result<(App, Vec<String>)> {
        self.go("/security").await?;
        self.click("#enable-app").await?;
        let key = self.shown("#totp-key").await?;
        let started = Instant::now();
        let mut typed = key.text().await?;
        while typed.is_empty() && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            typed = key.text().await?;
        }
        let app = App::from_typed_key(&typed)?;
        if let Some(name) = shots {
            screenshot_of(self, name, "#app-setup").await?;
        }
        self.fill("#app-name", "Work phone").await?;
        // A code read in the last seconds of its step may reach the server
        // in the next one; it would take that as the phone's clock running
        // a step behind and centre later windows there (as it should for a
        // real phone), and this test's "next step" codes would then be two
        // steps ahead. Read the code early in a step instead.
        App::early_in_a_step().await;
        self.fill("#app-code", &app.code(0)).await?;
        self.click("#app-confirm button[type=submit]").await?;
        self.shown("#codes-dialog").await?;
        let mut codes = Vec::new();
        for item in self
            .client
            .find_all(Locator::Css("#recovery-codes li"))
            .await?
        {
            codes.push(item.text().await?);
        }
        assert_eq!(codes.len(), 10, "ten recovery codes are shown once");
        if shots.is_some() {
            screenshot(self, "recovery-codes").await?;
        }
        self.click("#codes-saved").await?;
        self.text_contains("#mfa-state", "On").await?;
        Ok((app, codes))
    }

    /// Submits `code` on the verify page with `method`.
    async fn verify_with(&self, method: Option<&str>, code: &str, remember: bool) -> Result {
        self.on("/verify").await?;
        if let Some(method) = method {
            self.click(&format!("[data-use-method={method}]")).await?;
        }
        if remember {
            self.click("#verify-remember").await?;
        }
        self.fill("#verify-code", code).await?;
        self.click("#verify-form button[type=submit]").await
    }

    /// The last message the outbox shows for `to`, read in the page's
    /// context (the outbox page is a page of the desk); waits up to 10 s
    /// for one.
    async fn last_message_to(&self, to: &str) -> Result<String> {
        let script = "const done = arguments[arguments.length - 1]; \
                      fetch('/dev/outbox').then(r => r.text()).then(done, () => done(''));";
        let started = Instant::now();
        loop {
            let html = self.client.execute_async(script, vec![]).await?;
            let html = html.as_str().unwrap_or_default();
            if let Some(start) = html.find(&format!("data-to=\"{to}\"")) {
                let rest = &html[start..];
                let end = rest.find("</article>").unwrap_or(rest.len());
                return Ok(rest[..end].to_owned());
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("no message to {to} in the outbox").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A person's authenticator app: computes codes from the typed key.
struct App(Totp);

impl App {
    fn from_typed_key(typed: &str) -> Result<Self> {
        let key: String = typed.split_whitespace().collect();
        let secret = Secret::from_base32(&key)?;
        Ok(Self(Totp::new(&secret, &TotpConfig::default())))
    }

    /// The code `steps` periods from now.
    fn code(&self, steps: i64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let at = now.saturating_add_signed(steps * 30);
        self.0
            .generate_at(at)
            .map(|code| code.expose().to_string())
            .unwrap_or_default()
    }

    /// Waits, if needed, until the current 30 s step has at least 8 s
    /// left.
    async fn early_in_a_step() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let into = now % 30;
        if into >= 22 {
            tokio::time::sleep(Duration::from_secs(30 - into + 1)).await;
        }
    }

    /// A six-digit code this app does not show now, nor a step either
    /// side of now.
    fn wrong_code(&self) -> String {
        let near = [self.code(-1), self.code(0), self.code(1)];
        (0..)
            .map(|n: u32| format!("{:06}", (n * 7919 + 123_456) % 1_000_000))
            .find(|c| !near.contains(c))
            .unwrap_or_default()
    }
}

/// Where screenshots go: `MFA_SCREENSHOTS` or the target directory.
fn screenshot_dir() -> PathBuf {
    std::env::var_os("MFA_SCREENSHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
        PathBuf::from,
    )
}

/// A screenshot of the page from its top.
async fn screenshot(desk: &Desk, name: &str) -> Result {
    desk.client
        .execute("window.scrollTo(0, 0);", vec![])
        .await?;
    save_screenshot(desk, name).await
}

/// A screenshot with the element `css` in the middle.
async fn screenshot_of(desk: &Desk, name: &str, css: &str) -> Result {
    let element = desk.shown(css).await?;
    let script = "arguments[0].scrollIntoView({block: 'center'});";
    desk.client
        .execute(script, vec![serde_json::to_value(&element)?])
        .await?;
    save_screenshot(desk, name).await
}

async fn save_screenshot(desk: &Desk, name: &str) -> Result {
    let png = desk.client.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}

/// 1. An end user enables MFA with the typed key, signs out, signs in with
///    a code; the same code is refused the second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_user_enables_an_authenticator_and_codes_work_once() -> Result {
    let Some(desk) = Desk::open("enable").await? else {
        return Ok(());
    };
    enable_sign_in_and_replay(&desk, true).await?;
    desk.close().await
}

/// The flow of test 1; with `shots`, its screenshots.
async fn enable_sign_in_and_replay(desk: &Desk, shots: bool) -> Result {
    let shot = |name: &'static str| async move {
        if shots {
            screenshot(desk, name).await?;
        }
        Ok::<_, Box<dyn Error + Send + Sync>>(())
    };
    desk.go("/login").await?;
    shot("sign-in").await?;
    desk.sign_in("jordan@customer.example").await?;
    desk.on("/tickets").await?; // optional and not enrolled: no second step
    desk.text_contains("#tickets", "Invoice PDF").await?;
    shot("tickets").await?;
    let (app, _) = desk
        .enable_app(shots.then_some("enable-authenticator"))
        .await?;
    shot("security").await?;
    desk.sign_out().await?;

    desk.sign_in("jordan@customer.example").await?;
    desk.on("/verify").await?;
    shot("verify").await?;
    // The next step's code: the one confirmed at enrollment is spent.
    let code = app.code(1);
    desk.verify_with(None, &code, false).await?;
    desk.on("/tickets").await?;
    desk.sign_out().await?;

    desk.sign_in("jordan@customer.example").await?;
    desk.verify_with(None, &code, false).await?;
    desk.text_contains("#verify-message", "didn't work").await?;
    assert!(desk.path().await?.starts_with("/verify"));
    Ok(())
}

/// A database of its own on the server of `variable`'s URL, dropped by
/// [`drop_database`]; `None` when the variable is unset (and not required).
async fn fresh_database(variable: &str) -> Result<Option<(String, String)>> {
    let Ok(url) = std::env::var(variable) else {
        let required = std::env::var("MFA_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(!required, "MFA_REQUIRE_SERVICES=1 but {variable} is unset");
        eprintln!("skipped: set {variable} to run the service desk on that engine");
        return Ok(None);
    };
    let name = format!(
        "desk_{}_{}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros()
    );
    let base = url.split('?').next().unwrap_or(&url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let statement = format!("CREATE DATABASE {name}");
    if url.starts_with("postgres") {
        let pool = mfa_store_sql::sqlx::PgPool::connect(&url).await?;
        mfa_store_sql::sqlx::query(mfa_store_sql::sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await?;
        pool.close().await;
    } else {
        let pool = mfa_store_sql::sqlx::MySqlPool::connect(&url).await?;
        mfa_store_sql::sqlx::query(mfa_store_sql::sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    Ok(Some((url.clone(), format!("{server}/{name}"))))
}

async fn drop_database(admin_url: &str, database_url: &str) -> Result {
    let name = database_url.rsplit('/').next().unwrap_or_default();
    if admin_url.starts_with("postgres") {
        let pool = mfa_store_sql::sqlx::PgPool::connect(admin_url).await?;
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        mfa_store_sql::sqlx::query(mfa_store_sql::sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await?;
        pool.close().await;
    } else {
        let pool = mfa_store_sql::sqlx::MySqlPool::connect(admin_url).await?;
        let statement = format!("DROP DATABASE IF EXISTS {name}");
        mfa_store_sql::sqlx::query(mfa_store_sql::sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    Ok(())
}

/// The same app on PostgreSQL and on MySQL/MariaDB (`DATABASE_URL`): test
/// 1's flow on each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_runs_on_postgres_and_mysql() -> Result {
    for variable in ["MFA_TEST_POSTGRES_URL", "MFA_TEST_MYSQL_URL"] {
        let Some((admin_url, database_url)) = fresh_database(variable).await? else {
            continue;
        };
        let outcome = async {
            let Some(desk) = Desk::open_on("engine", Some(database_url.clone())).await? else {
                return Ok(());
            };
            enable_sign_in_and_replay(&desk, false).await?;
            desk.close().await
        }
        .await;
        drop_database(&admin_url, &database_url).await?;
        outcome.map_err(|e| format!("{variable}: {e}"))?;
    }
    Ok(())
}

/// 2. Sign-in with a recovery code, which then no longer works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_signs_in_once() -> Result {
    let Some(desk) = Desk::open("recovery").await? else {
        return Ok(());
    };
    desk.sign_in("priya@customer.example").await?;
    let (_, codes) = desk.enable_app(None).await?;
    desk.sign_out().await?;

    desk.sign_in("priya@customer.example").await?;
    desk.verify_with(Some("recovery"), &codes[0], false).await?;
    desk.on("/tickets").await?;
    desk.go("/security").await?;
    desk.text_contains("#recovery-left", "9 of 10").await?;
    desk.sign_out().await?;

    desk.sign_in("priya@customer.example").await?;
    desk.verify_with(Some("recovery"), &codes[0], false).await?;
    desk.text_contains("#verify-message", "didn't work").await?;
    // Another of the codes still works.
    desk.fill("#verify-code", &codes[1]).await?;
    desk.click("#verify-form button[type=submit]").await?;
    desk.on("/tickets").await?;
    desk.close().await
}

/// The six-digit code in a message.
fn code_in(message: &str) -> Result<String> {
    let digits: Vec<char> = message.chars().collect();
    digits
        .windows(6)
        .zip(0..)
        .find(|(w, i)| {
            w.iter().all(char::is_ascii_digit)
                && (*i == 0 || !digits[*i - 1].is_ascii_digit())
                && digits.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|(w, _)| w.iter().collect())
        .ok_or_else(|| "no code in the message".into())
}

/// 3. Without an authenticator app: e-mail codes. Register them (the code
///    read from the outbox), then sign in with a code sent by e-mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_codes_register_and_sign_in() -> Result {
    let Some(desk) = Desk::open("email").await? else {
        return Ok(());
    };
    let to = "jordan@customer.example";
    desk.sign_in(to).await?;
    desk.go("/security").await?;
    desk.click("#no-app").await?;
    desk.click("[data-channel-start=email]").await?;
    desk.shown("#channel-code").await?;
    let registered_at = Instant::now();
    let code = code_in(&desk.last_message_to(to).await?)?;
    desk.fill("#channel-code", &code).await?;
    desk.click("#channel-confirm button[type=submit]").await?;
    desk.shown("#codes-dialog").await?;
    desk.click("#codes-saved").await?;
    desk.text_contains("#channels", "E-mail").await?;
    desk.sign_out().await?;

    desk.sign_in(to).await?;
    desk.on("/verify").await?;
    // One code a minute per address: wait out the registration's.
    let cooldown = Duration::from_secs(61);
    if let Some(left) = cooldown.checked_sub(registered_at.elapsed()) {
        tokio::time::sleep(left).await;
    }
    desk.click("[data-send=email]").await?;
    desk.text_contains("#verify-message", "Code sent").await?;
    let message = desk.last_message_to(to).await?;
    let code = code_in(&message)?;
    desk.go("/dev/outbox").await?;
    screenshot(&desk, "outbox").await?;
    desk.go("/verify?next=/tickets").await?;
    // E-mail is her only way in: the page asks for that code first.
    desk.text_contains("#code-label", "Code").await?;
    let method = desk.client.find(Locator::Css("#verify")).await?;
    assert_eq!(method.attr("data-method").await?.as_deref(), Some("email"));
    desk.fill("#verify-code", &code).await?;
    desk.click("#verify-form button[type=submit]").await?;
    desk.on("/tickets").await?;
    desk.close().await
}

/// 4. Five wrong codes: the lock-out message, with the time to wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_codes_lock_with_the_wait_shown() -> Result {
    let Some(desk) = Desk::open("lockout").await? else {
        return Ok(());
    };
    desk.sign_in("alex@desk.example").await?;
    let (app, _) = desk.enable_app(None).await?;
    desk.sign_out().await?;
    desk.sign_in("alex@desk.example").await?;
    desk.on("/verify").await?;
    let wrong = app.wrong_code();
    for attempt in 1..=5 {
        desk.fill("#verify-code", &wrong).await?;
        desk.click("#verify-form button[type=submit]").await?;
        let expected = if attempt < 5 {
            "didn't work"
        } else {
            "Too many wrong codes"
        };
        desk.text_contains("#verify-message", expected).await?;
    }
    let text = desk
        .text_contains("#verify-message", "Try again in")
        .await?;
    assert!(text.contains("minute"), "{text}");
    screenshot(&desk, "locked").await?;
    // Locked means locked: the right code is refused too, with the wait.
    desk.fill("#verify-code", &app.code(1)).await?;
    desk.click("#verify-form button[type=submit]").await?;
    desk.text_contains("#verify-message", "Try again in")
        .await?;
    assert!(desk.path().await?.starts_with("/verify"));
    desk.close().await
}

/// Signs in as the administrator with an authenticator (an administrator
/// must have passed a second step to open Configuration).
async fn admin_signed_in(desk: &Desk) -> Result {
    desk.sign_in("ada@desk.example").await?;
    desk.go("/admin/security").await?;
    // No factor yet: sent to set one up, then on to Configuration.
    desk.on("/security").await?;
    desk.enable_app(None).await?;
    desk.go("/admin/security").await?;
    desk.on("/admin/security").await
}

/// 5. The administrator enforces MFA for agents: the dry run counts who
///    must enroll before saving; an unenrolled agent is then forced into
///    enrollment, and end users are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforcing_for_agents_forces_unenrolled_agents_only() -> Result {
    let Some(desk) = Desk::open("enforce").await? else {
        return Ok(());
    };
    admin_signed_in(&desk).await?;
    desk.click("fieldset[data-role=agent] input[value=required]")
        .await?;
    desk.fill("fieldset[data-role=agent] input[name=agent-grace]", "0")
        .await?;
    desk.click("#policy-preview").await?;
    // Two agents (Alex, Sam) have no factor; Ada has one; end users are
    // still optional.
    let report = desk
        .text_contains("#dry-run", "2 would have to set up")
        .await?;
    assert!(report.contains("of 5 people"), "{report}");
    screenshot_of(&desk, "admin-security", "#dry-run").await?;
    desk.click("#policy-save").await?;
    desk.text_contains("#policy-message", "Saved").await?;
    desk.sign_out().await?;

    desk.sign_in("alex@desk.example").await?;
    desk.on("/security").await?;
    desk.text_contains("#two-factor", "required").await?;
    // No way around it.
    desk.go("/tickets/1042").await?;
    desk.on("/security").await?;
    screenshot(&desk, "enrollment-required").await?;
    desk.sign_out().await?;

    desk.sign_in("jordan@customer.example").await?;
    desk.on("/tickets").await?;
    desk.go("/tickets/1042").await?;
    desk.text_contains("#ticket", "Invoice PDF").await?;
    desk.close().await
}

/// 6. The administrator resets a person's MFA: they are told by e-mail, and
///    their remembered browser no longer skips the second step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reset_notifies_and_forgets_remembered_browsers() -> Result {
    let Some(desk) = Desk::open("reset").await? else {
        return Ok(());
    };
    let to = "priya@customer.example";
    desk.sign_in(to).await?;
    let (app, _) = desk.enable_app(None).await?;
    desk.sign_out().await?;
    desk.sign_in(to).await?;
    desk.verify_with(None, &app.code(1), true).await?;
    desk.on("/tickets").await?;
    desk.sign_out().await?;
    // Remembered: straight in.
    desk.sign_in(to).await?;
    desk.on("/tickets").await?;
    desk.sign_out().await?;

    admin_signed_in(&desk).await?;
    desk.go("/admin/people").await?;
    desk.click("button[data-reset=priya]").await?;
    desk.accept().await?;
    desk.text_contains("#people-message", "reset for Priya Shah")
        .await?;
    screenshot(&desk, "admin-people").await?;
    desk.go("/admin/audit?person=priya").await?;
    desk.text_contains("#audit", "mfa_reset").await?;
    screenshot(&desk, "admin-audit").await?;
    let notice = desk.last_message_to(to).await?;
    assert!(notice.contains("was reset"), "{notice}");
    desk.sign_out().await?;

    // She sets up a new app; the browser she had remembered asks again.
    desk.sign_in(to).await?;
    desk.on("/tickets").await?;
    let (app, _) = desk.enable_app(None).await?;
    desk.sign_out().await?;
    desk.sign_in(to).await?;
    desk.on("/verify").await?;
    desk.verify_with(None, &app.code(1), false).await?;
    desk.on("/tickets").await?;
    desk.close().await
}

/// 7. A password-only session cannot open a ticket by typing its URL; after
///    the second step it lands on that ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_only_session_cannot_open_a_ticket() -> Result {
    let Some(desk) = Desk::open("gate").await? else {
        return Ok(());
    };
    desk.sign_in("sam@desk.example").await?;
    let (app, _) = desk.enable_app(None).await?;
    desk.sign_out().await?;
    desk.sign_in("sam@desk.example").await?;
    desk.on("/verify").await?;
    desk.go("/tickets/1033").await?;
    desk.on("/verify?next=/tickets/1033").await?;
    assert!(!desk.body().await?.contains("Webhook deliveries"));
    desk.verify_with(None, &app.code(1), false).await?;
    desk.on("/tickets/1033").await?;
    desk.text_contains("#ticket", "Webhook deliveries").await?;
    desk.close().await
}

/// During a grace period the desk still opens, with a banner that names
/// the deadline; the dry run counts those who must enroll by then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grace_period_shows_the_deadline_on_every_page() -> Result {
    let Some(desk) = Desk::open("grace").await? else {
        return Ok(());
    };
    admin_signed_in(&desk).await?;
    desk.click("fieldset[data-role=end_user] input[value=required]")
        .await?;
    desk.fill(
        "fieldset[data-role=end_user] input[name=end_user-grace]",
        "14",
    )
    .await?;
    desk.click("#policy-preview").await?;
    let report = desk
        .text_contains("#dry-run", "0 would have to set up")
        .await?;
    assert!(
        report.contains("2 would have to by the end of the grace period"),
        "{report}"
    );
    desk.click("#policy-save").await?;
    desk.text_contains("#policy-message", "Saved").await?;
    desk.sign_out().await?;

    desk.sign_in("jordan@customer.example").await?;
    desk.on("/tickets").await?;
    let banner = desk.text_contains(".banner", "Set it up by").await?;
    assert!(banner.contains("UTC"), "{banner}");
    screenshot(&desk, "grace-banner").await?;
    desk.close().await
}

/// Sensitive changes ask for a fresh code: renaming needs none; in a
/// session a remembered browser let in, new recovery codes ask "Confirm
/// it's you" first; then the authenticator is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_changes_ask_for_a_fresh_code() -> Result {
    let Some(desk) = Desk::open("step-up").await? else {
        return Ok(());
    };
    let to = "priya@customer.example";
    desk.sign_in(to).await?;
    let (app, codes) = desk.enable_app(None).await?;
    desk.fill("#authenticators input[name=name]", "Personal phone")
        .await?;
    desk.click("#authenticators button[type=submit]").await?;
    desk.on("/security").await?;
    let renamed = desk.shown("#authenticators input[name=name]").await?;
    let started = Instant::now();
    while renamed.prop("value").await?.as_deref() != Some("Personal phone") {
        assert!(started.elapsed() < Duration::from_secs(10), "renamed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    desk.sign_out().await?;
    desk.sign_in(to).await?;
    desk.verify_with(None, &app.code(1), true).await?;
    desk.on("/tickets").await?;
    desk.sign_out().await?;
    desk.sign_in(to).await?; // remembered: no code asked

    desk.go("/security").await?;
    desk.click("#regenerate-codes").await?;
    desk.accept().await?;
    desk.shown("#step-up").await?;
    screenshot(&desk, "step-up").await?;
    let method = desk.shown("#step-up-method").await?;
    method
        .select_by_value("recovery")
        .await
        .map_err(|e| format!("choosing the recovery method: {e}"))?;
    desk.fill("#step-up-code", &codes[0]).await?;
    desk.click("#step-up-form button[type=submit]").await?;
    desk.shown("#codes-dialog").await?;
    let fresh = desk
        .client
        .find(Locator::Css("#recovery-codes li"))
        .await?
        .text()
        .await?;
    assert!(!codes.contains(&fresh), "new codes replace the old ones");
    desk.click("#codes-saved").await?;
    desk.text_contains("#recovery-left", "10 of 10").await?;

    desk.click("[data-remove-app]").await?;
    desk.accept().await?;
    desk.text_contains("#mfa-state", "Off").await?;
    desk.close().await
}
