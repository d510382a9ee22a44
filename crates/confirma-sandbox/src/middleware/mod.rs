//! The sandbox's HTTP middleware over the Partner API: each reads or changes the running
//! sandbox ([`crate::app`]), which knows nothing of them. `identify` finds each request's
//! operation and caller once, for the others and the operation; `journal` records every request,
//! `faults` answers in place of an operation when a fault is injected, `health` gives the
//! sandbox's own 503 answers a `Retry-After`.

pub mod faults;
pub mod health;
pub mod identify;
pub mod journal;
