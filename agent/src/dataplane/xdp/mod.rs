//! The XDP program: the object embedded in the binary, loading and attaching it, and reading the
//! ring buffer of adverts it stamps at the driver.
//!
//! One [`XdpProgram`] owns the loaded object and thus every map; links it creates belong to this
//! process (nothing is pinned), so the program leaves the interface when vipd exits or is killed.
mod adverts;
mod object;
mod program;

pub use adverts::{Advert, AdvertRing, AsyncAdvertRing};
pub use program::{AttachMode, Attachment, XdpError, XdpProgram};
