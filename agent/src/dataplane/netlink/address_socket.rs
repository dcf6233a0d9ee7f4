//! A NETLINK_ROUTE socket of its own for the takeover's address adds, opened at start and
//! used without a runtime.
//!
//! The kernel carries out an rtnetlink request inside the sender's sendmsg(2) (rtnetlink_rcv
//! runs in the sending task's context), so when [`AddressSocket::send_add`] returns the address
//! is on the interface and the node can announce it; the acknowledgement only reports how it
//! went, and is read later, off the takeover's path, when the socket becomes readable. Going
//! through [`super::Netlink`] instead costs a round trip through its connection task and a
//! runtime's I/O driver before the announcement may go out.
use std::{
    io,
    num::NonZeroI32,
    os::fd::{AsFd, BorrowedFd},
};

use rtnetlink::packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::Vip;

/// A kernel's answer to one add: `Ok` or the errno it failed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddAck {
    /// The sequence number [`AddressSocket::send_add`] returned.
    pub seq: u32,
    pub result: Result<(), i32>,
}

/// The socket, non-blocking, in the network namespace of the thread that opened it.
pub struct AddressSocket {
    socket: Socket,
    next_seq: u32,
    /// Reused for every request and every acknowledgement.
    buf: Vec<u8>,
}

/// Acknowledgements of adds are a header and the echoed request header: 36 bytes each; a page
/// holds any that arrive together.
const RECV_BUF: usize = 4096;

impl AddressSocket {
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket.set_non_blocking(true)?;
        Ok(Self {
            socket,
            next_seq: 1,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    /// Adds `vip` (marked as vipd's, like [`super::Netlink::add_vip`]); when this returns `Ok`
    /// the kernel has handled it. Returns the sequence number its [`AddAck`] will carry.
    pub fn send_add(&mut self, vip: &Vip) -> io::Result<u32> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
        header.sequence_number = seq;
        let mut message = NetlinkMessage::new(
            header,
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(vip.add_message())),
        );
        message.finalize();
        self.buf.clear();
        self.buf.resize(message.buffer_len(), 0);
        message.serialize(&mut self.buf);
        self.socket.send(&self.buf, 0)?;
        Ok(seq)
    }

    /// The acknowledgements waiting, without blocking; `ack` is called for each.
    pub fn drain_acks(&mut self, mut ack: impl FnMut(AddAck)) -> io::Result<()> {
        loop {
            self.buf.clear();
            self.buf.reserve(RECV_BUF);
            match self.socket.recv(&mut self.buf, 0) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
            let mut rest = &self.buf[..];
            while !rest.is_empty() {
                let Ok(message) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest) else {
                    break;
                };
                let len = usize::try_from(message.header.length).unwrap_or(usize::MAX);
                if let NetlinkPayload::Error(error) = message.payload {
                    ack(AddAck {
                        seq: message.header.sequence_number,
                        result: match error.code {
                            None => Ok(()),
                            Some(code) => Err(errno_of(code)),
                        },
                    });
                }
                // Messages are 4-byte aligned.
                let advance = len.checked_add(3).map(|l| l & !3).unwrap_or(usize::MAX);
                if len == 0 || advance > rest.len() {
                    break;
                }
                rest = &rest[advance..];
            }
        }
    }
}

/// The kernel reports an errno as its negative.
fn errno_of(code: NonZeroI32) -> i32 {
    code.get().saturating_abs()
}

impl AsFd for AddressSocket {
    /// Readable (epoll) when acknowledgements wait.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
