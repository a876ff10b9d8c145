//! `KeyUri::parse` never panics, and whatever it accepts builds back into
//! a URI that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_core::KeyUri;

fuzz_target!(|text: &str| {
    if let Ok(uri) = KeyUri::parse(text) {
        let built = uri.to_uri();
        let again = KeyUri::parse(&built).expect("a built URI parses");
        assert_eq!(again, uri);
        assert_eq!(again.to_uri(), built);
    }
});
