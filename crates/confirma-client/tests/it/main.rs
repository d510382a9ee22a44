//! The client against a scripted loopback HTTP server: retries, authentication, error decoding
//! and the paging helpers, observed on the wire. One test binary, one module per concern.

mod auth;
mod conversions;
mod errors;
mod helpers;
mod mock;
mod raw;
mod retries;
