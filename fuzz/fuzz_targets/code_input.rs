//! The code and recovery-code parsers never panic; an accepted code has
//! exactly the digits asked for, and shows them back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_core::otp::{Code, Digits};

fuzz_target!(|input: (u8, &str)| {
    let (selector, text) = input;
    let digits = Digits::new(6 + u32::from(selector % 3)).expect("6, 7 or 8");
    if let Ok(code) = Code::parse(text, digits) {
        let shown = code.expose();
        assert_eq!(shown.len(), usize::from(digits.get()));
        assert!(shown.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(Code::parse(&shown, digits).expect("shown digits parse"), code);
    }
    let _ = mfa_core::recovery::normalize(text);
});
