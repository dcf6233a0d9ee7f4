//! The integer socket options socket2 has no setter for (IP_PKTINFO, SO_TIMESTAMPNS,
//! SO_RXQ_OVFL, IP_RECVTTL, IPV6_RECVHOPLIMIT, ...), for every socket of the daemon.
use std::{io, mem, os::fd::AsRawFd};

use socket2::Socket;

/// Sets the integer option `name` at `level` to `value`.
pub fn set_int_option(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a live c_int and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
