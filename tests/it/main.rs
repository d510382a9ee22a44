//! Cross-crate tests: the client against the server stub over real HTTP, and the proofs that the
//! client, the server and the spec agree. One test binary, one module per concern.

mod calls;
#[rustfmt::skip]
mod client_calls;
mod client_requests;
mod documented;
mod prism_dynamic;
mod roundtrip;
mod routes;
#[rustfmt::skip]
mod schema_names;
mod schemas;
mod serve;
mod spec;
