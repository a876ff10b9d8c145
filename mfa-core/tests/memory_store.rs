//! The store conformance suite against [`mfa_core::MemoryStore`].

mfa_core::store_conformance_suite!(memory, || async { Some(mfa_core::MemoryStore::new()) });
