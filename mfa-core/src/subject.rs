//! Who is authenticating, and the names of things they own.

use core::fmt;
use std::borrow::Cow;

use crate::error::{Error, InputProblem, Result};
pub(crate) use crate::factor::{Channel, FactorKind};

/// Longest accepted identifier (subject id, credential id), in bytes.
pub(crate) const MAX_ID_LEN: usize = 255;

fn check_id(text: &str, what: &'static str) -> Result<()> {
    if text.is_empty() || text.len() > MAX_ID_LEN || text.chars().any(char::is_control) {
        return Err(Error::InvalidInput(InputProblem::Identifier(what)));
    }
    Ok(())
}

/// The application's identifier for a user: opaque to this crate.
///
/// 1 to 255 bytes, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct SubjectId(String);

impl SubjectId {
    /// Validates an identifier.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if it is empty, longer than 255 bytes or
    /// contains control characters.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        check_id(&id, "subject id")?;
        Ok(Self(id))
    }

    /// The identifier text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SubjectId {
    type Error = Error;
    fn try_from(id: String) -> Result<Self> {
        Self::new(id)
    }
}

impl From<SubjectId> for String {
    fn from(id: SubjectId) -> Self {
        id.0
    }
}

/// Identifier of an authenticator, a pending enrollment or a remembered
/// device: 26 lowercase base32 characters (128 random bits) when made
/// here; any 1–255 byte text without control characters when read back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct CredentialId(String);

impl CredentialId {
    /// A new random identifier.
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(Error::Rng)?;
        Ok(Self(
            crate::encoding::base32_encode(&bytes).to_ascii_lowercase(),
        ))
    }

    /// Validates an identifier received from outside (a URL path, a row).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] as for [`SubjectId::new`].
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        check_id(&id, "credential id")?;
        Ok(Self(id))
    }

    /// The identifier text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CredentialId {
    type Error = Error;
    fn try_from(id: String) -> Result<Self> {
        Self::new(id)
    }
}

impl From<CredentialId> for String {
    fn from(id: CredentialId) -> Self {
        id.0
    }
}

/// A role name. `agent` and `end_user` are built in; applications may use
/// any other name (1–64 bytes of `a-z`, `0-9`, `_`, `-`, `.`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Role(Cow<'static, str>);

impl Role {
    /// Staff who work the service desk.
    pub const AGENT: Self = Self(Cow::Borrowed("agent"));
    /// Customers of the service.
    pub const END_USER: Self = Self(Cow::Borrowed("end_user"));

    /// Validates a role name.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless it is 1–64 bytes of lowercase ASCII
    /// letters, digits, `_`, `-` or `.`.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
        if !valid {
            return Err(Error::InvalidInput(InputProblem::Role));
        }
        Ok(Self(Cow::Owned(name)))
    }

    /// The role name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Role {
    type Error = Error;
    fn try_from(name: String) -> Result<Self> {
        Self::new(name)
    }
}

impl From<Role> for String {
    fn from(role: Role) -> Self {
        role.0.into_owned()
    }
}

/// The person authenticating, as the host application knows them. The
/// application authenticates the first factor and builds this.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Subject {
    /// The application's user id.
    pub id: SubjectId,
    /// Roles; policy takes the strictest rule among them.
    pub roles: Vec<Role>,
    /// Where e-mail codes and security notices go, if anywhere.
    pub email: Option<String>,
    /// Where SMS codes go, if anywhere (E.164 recommended).
    pub phone: Option<String>,
}

impl Subject {
    /// A subject with roles and no contact details.
    #[must_use]
    pub fn new(id: SubjectId, roles: impl IntoIterator<Item = Role>) -> Self {
        Self {
            id,
            roles: roles.into_iter().collect(),
            email: None,
            phone: None,
        }
    }

    /// With an e-mail address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// With a phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// The name shown in authenticator apps: the e-mail address if known,
    /// else the id.
    #[must_use]
    pub fn account_label(&self) -> &str {
        self.email.as_deref().unwrap_or(self.id.as_str())
    }

    /// The address for `channel`, if the subject has one.
    #[must_use]
    pub fn address(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.phone.as_deref(),
        }
    }
}

impl Channel {
    /// Parses `email` or `sms`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for anything else.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or(Error::InvalidInput(InputProblem::Channel))
    }
}

impl FactorKind {
    /// Parses the name given by [`as_str`](Self::as_str).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for anything else.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or(Error::InvalidInput(InputProblem::Factor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated() {
        assert!(SubjectId::new("alice").is_ok());
        assert!(SubjectId::new("").is_err());
        assert!(SubjectId::new("a\nb").is_err());
        assert!(SubjectId::new("x".repeat(256)).is_err());
        let id = CredentialId::generate().unwrap();
        assert_eq!(id.as_str().len(), 26);
        assert!(
            id.as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(id, CredentialId::generate().unwrap());
    }

    #[test]
    fn roles_and_names_round_trip() {
        assert_eq!(Role::new("agent").unwrap(), Role::AGENT);
        assert!(Role::new("Agent").is_err());
        assert!(Role::new("").is_err());
        assert!(Role::new("team-lead.eu_1").is_ok());
        for kind in FactorKind::ALL {
            assert_eq!(FactorKind::parse(kind.as_str()).unwrap(), kind);
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()).unwrap(), channel);
            assert_eq!(channel.factor().as_str(), channel.as_str());
        }
        assert!(Channel::parse("fax").is_err());
    }

    #[test]
    fn subject_addresses() {
        let s = Subject::new(SubjectId::new("7").unwrap(), [Role::AGENT]).with_email("a@x.org");
        assert_eq!(s.account_label(), "a@x.org");
        assert_eq!(s.address(Channel::Email), Some("a@x.org"));
        assert_eq!(s.address(Channel::Sms), None);
    }
}
