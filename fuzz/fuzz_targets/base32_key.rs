//! `Secret::from_base32` never panics; an accepted key re-encodes to text
//! that decodes to the same secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_core::Secret;

fuzz_target!(|text: &str| {
    if let Ok(secret) = Secret::from_base32(text) {
        let encoded = secret.to_base32();
        assert_eq!(Secret::from_base32(&encoded).expect("re-encoded key"), secret);
        let grouped = secret.to_base32_grouped();
        assert_eq!(Secret::from_base32(&grouped).expect("grouped key"), secret);
    }
});
