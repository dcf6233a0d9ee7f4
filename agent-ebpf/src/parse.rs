//! Bounds-checked access to headers in an XDP frame.
//!
//! Every read goes through [`header_at`], which proves to the verifier that the whole header lies
//! between `data` and `data_end` before handing out a pointer. Offsets passed in must themselves
//! be bounded (constants, or masked values) so the verifier can track the range.
use aya_ebpf::programs::XdpContext;
use core::mem;

/// Returns a pointer to a `T` at `offset` bytes into the frame, or `None` when the frame is too
/// short to hold it.
#[inline(always)]
pub fn header_at<T>(ctx: &XdpContext, offset: usize) -> Option<*const T> {
    let start = ctx.data();
    let end = ctx.data_end();
    if start + offset + mem::size_of::<T>() > end {
        return None;
    }
    Some((start + offset) as *const T)
}
