//! The binary's commands beyond serving (the library does not use this module).

pub mod space;
