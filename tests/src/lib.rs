//! Cross-crate tests live in `it/`: they need the client and the server stub together, which no
//! single crate's tests may depend on (the client crate must not depend on axum).
