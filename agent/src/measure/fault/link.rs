//! An interface's administrative state, set with SIOCSIFFLAGS: one system call, so the fault's
//! stamp is taken right before the link goes.
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// A datagram socket to issue interface ioctls on, in the caller's network namespace.
pub fn control_socket() -> std::io::Result<OwnedFd> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    Ok(OwnedFd::from(socket))
}

/// Brings interface `name` up or down through `socket` (see [`control_socket`]).
pub fn set_up(socket: impl AsFd, name: &str, up: bool) -> std::io::Result<()> {
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.is_empty() || name.len() >= ifr.ifr_name.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not an interface name"),
        ));
    }
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    let fd = socket.as_fd().as_raw_fd();
    // SAFETY: fd is a socket and ifr a valid ifreq for these requests.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled in the flags member of the union.
    let flags = unsafe { &mut ifr.ifr_ifru.ifru_flags };
    if up {
        *flags |= libc::IFF_UP as libc::c_short;
    } else {
        *flags &= !(libc::IFF_UP as libc::c_short);
    }
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
