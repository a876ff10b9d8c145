//! The desk's own data: the demo accounts (with Argon2id password hashes)
//! and their tickets. They are fixtures, rebuilt at every start; what
//! people change — their second factors, the security policy, the audit
//! trail — is MFA state, kept in the database by `mfa-store-sql`.
//!
//! [`People`] is also the user directory of the MFA administrator
//! endpoints ([`Directory`]): the dry run counts these people, and a reset
//! looks the person up here.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use mfa_core::http::Directory;
use mfa_core::{Role, Subject, SubjectId, Timestamp};

use crate::Error;

/// The administrator role (the MFA endpoints' default `admin_role`).
pub const ADMIN: &str = "admin";

/// What someone is to the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Staff: sees every ticket.
    Agent,
    /// Staff who also sees Configuration.
    Administrator,
    /// A customer: sees their own tickets.
    EndUser,
}

/// A demo account.
#[derive(Clone)]
pub struct Person {
    /// Stable id (the MFA subject id).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Sign-in e-mail, also where e-mail codes go.
    pub email: String,
    /// Mobile number for SMS codes.
    pub phone: String,
    /// Agent, administrator or end user.
    pub kind: Kind,
    /// The demo password (printed at start-up; a real app never keeps it).
    pub password: String,
    hash: String,
}

impl core::fmt::Debug for Person {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Person {
    /// Whether they are staff (agent or administrator).
    #[must_use]
    pub fn is_staff(&self) -> bool {
        matches!(self.kind, Kind::Agent | Kind::Administrator)
    }

    /// Whether they may open Configuration.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.kind == Kind::Administrator
    }

    /// The person as the MFA service sees them: id, roles, addresses.
    #[must_use]
    pub fn subject(&self) -> Option<Subject> {
        let id = SubjectId::new(self.id.clone()).ok()?;
        let roles = match self.kind {
            Kind::Agent => vec![Role::AGENT],
            Kind::Administrator => vec![Role::AGENT, Role::new(ADMIN).ok()?],
            Kind::EndUser => vec![Role::END_USER],
        };
        Some(
            Subject::new(id, roles)
                .with_email(self.email.clone())
                .with_phone(self.phone.clone()),
        )
    }

    /// The role as shown on pages.
    #[must_use]
    pub fn role_label(&self) -> &'static str {
        match self.kind {
            Kind::Agent => "Agent",
            Kind::Administrator => "Administrator",
            Kind::EndUser => "End user",
        }
    }
}

/// A ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// Number.
    pub id: u32,
    /// Who asked (an end user's id).
    pub requester: String,
    /// Title.
    pub title: String,
    /// Open, pending or solved.
    pub status: &'static str,
    /// Low, normal, high or urgent.
    pub priority: &'static str,
    /// When it was opened.
    pub opened: Timestamp,
    /// The conversation: (author id, text).
    pub messages: Vec<(String, String)>,
}

/// Everyone and every ticket; cheap to clone.
#[derive(Debug, Clone)]
pub struct People {
    people: Arc<Vec<Person>>,
    tickets: Arc<Vec<Ticket>>,
    /// A hash of no one's password: checked when the e-mail is unknown,
    /// so that a wrong address takes as long as a wrong password.
    decoy: Arc<String>,
}

impl People {
    /// The demo accounts (passwords hashed with Argon2id here, once per
    /// start) and tickets.
    ///
    /// # Errors
    /// [`Error::Password`] if hashing fails.
    pub async fn demo() -> Result<Self, Error> {
        let accounts = [
            (
                "ada",
                "Ada Lovelace",
                "ada@desk.example",
                Kind::Administrator,
            ),
            ("alex", "Alex Morgan", "alex@desk.example", Kind::Agent),
            ("sam", "Sam Rivera", "sam@desk.example", Kind::Agent),
            (
                "jordan",
                "Jordan Lee",
                "jordan@customer.example",
                Kind::EndUser,
            ),
            (
                "priya",
                "Priya Shah",
                "priya@customer.example",
                Kind::EndUser,
            ),
        ];
        let hashed = tokio::task::spawn_blocking(move || {
            let mut people = Vec::new();
            for (n, (id, name, email, kind)) in accounts.into_iter().enumerate() {
                let password = format!("{id}-demo-pass");
                people.push(Person {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    email: email.to_owned(),
                    phone: format!("+1 555 010{n}"),
                    kind,
                    hash: hash(&password)?,
                    password,
                });
            }
            let decoy = hash("no one's password")?;
            Ok::<_, Error>((people, decoy))
        })
        .await
        .map_err(|e| Error::Password(e.to_string()))??;
        let (people, decoy) = hashed;
        Ok(Self {
            people: Arc::new(people),
            tickets: Arc::new(demo_tickets()),
            decoy: Arc::new(decoy),
        })
    }

    /// Everyone, administrators first.
    #[must_use]
    pub fn all(&self) -> &[Person] {
        &self.people
    }

    /// The person with this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// The person with this e-mail and password, checked on the blocking
    /// pool (Argon2id is deliberately slow). Unknown addresses cost as
    /// much as wrong passwords.
    pub async fn sign_in(&self, email: &str, password: &str) -> Option<Person> {
        let email = email.trim().to_ascii_lowercase();
        let person = self.people.iter().find(|p| p.email == email).cloned();
        let hash = person
            .as_ref()
            .map_or_else(|| self.decoy.as_str().to_owned(), |p| p.hash.clone());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        person.filter(|_| matches)
    }

    /// The tickets `person` may see, newest first.
    #[must_use]
    pub fn tickets_for(&self, person: &Person) -> Vec<&Ticket> {
        let mut tickets: Vec<&Ticket> = self
            .tickets
            .iter()
            .filter(|t| person.is_staff() || t.requester == person.id)
            .collect();
        tickets.sort_by_key(|t| core::cmp::Reverse(t.opened));
        tickets
    }

    /// Ticket `id`, if `person` may see it.
    #[must_use]
    pub fn ticket_for(&self, person: &Person, id: u32) -> Option<&Ticket> {
        self.tickets
            .iter()
            .find(|t| t.id == id && (person.is_staff() || t.requester == person.id))
    }
}

fn hash(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

impl Directory for People {
    async fn subject(&self, id: &SubjectId) -> mfa_core::Result<Option<Subject>> {
        Ok(self.get(id.as_str()).and_then(Person::subject))
    }

    async fn subjects(&self) -> mfa_core::Result<Vec<Subject>> {
        Ok(self.people.iter().filter_map(Person::subject).collect())
    }
}

fn demo_tickets() -> Vec<Ticket> {
    // Opened over the past days, relative to a fixed date so that pages
    // read the same in every screenshot.
    let day: u64 = 86_400;
    let base: u64 = 1_795_000_000; // 2026-11-18
    let t = |id,
             requester: &str,
             title: &str,
             status,
             priority,
             days_ago: u64,
             messages: &[(&str, &str)]| Ticket {
        id,
        requester: requester.to_owned(),
        title: title.to_owned(),
        status,
        priority,
        opened: Timestamp::from_unix(base - days_ago * day),
        messages: messages
            .iter()
            .map(|(who, text)| ((*who).to_owned(), (*text).to_owned()))
            .collect(),
    };
    vec![
        t(
            1042,
            "jordan",
            "Invoice PDF shows the wrong VAT number",
            "open",
            "high",
            0,
            &[
                (
                    "jordan",
                    "Our November invoice lists an old VAT number. Can you reissue it?",
                ),
                (
                    "alex",
                    "Thanks Jordan, I've asked billing to reissue it today.",
                ),
            ],
        ),
        t(
            1041,
            "priya",
            "Cannot reset my password from the mobile app",
            "open",
            "normal",
            1,
            &[(
                "priya",
                "The reset link opens the app but the page stays blank.",
            )],
        ),
        t(
            1039,
            "jordan",
            "Add two colleagues to our organisation",
            "pending",
            "low",
            2,
            &[
                (
                    "jordan",
                    "Please add mina@customer.example and tom@customer.example.",
                ),
                (
                    "sam",
                    "Done for Mina; Tom's address bounces — could you check it?",
                ),
            ],
        ),
        t(
            1036,
            "priya",
            "Export of last quarter's tickets",
            "solved",
            "normal",
            4,
            &[
                ("priya", "We need a CSV of Q3 for our audit."),
                (
                    "alex",
                    "Attached to your account's downloads. Closing this one.",
                ),
            ],
        ),
        t(
            1033,
            "jordan",
            "Webhook deliveries failing since Monday",
            "open",
            "urgent",
            5,
            &[
                ("jordan", "Every webhook now answers 401 on our side."),
                (
                    "sam",
                    "The signing secret rotated on Monday; the new one is under Settings > API.",
                ),
            ],
        ),
        t(
            1030,
            "priya",
            "Change the company name on our account",
            "solved",
            "low",
            8,
            &[("priya", "We are now Shah & Partners Ltd.")],
        ),
    ]
}
