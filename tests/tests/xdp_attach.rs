//! Attaching next to another XDP program: an interface that already has a program vipd did not
//! attach (here: a second, separately loaded copy of vipd's own) gets a clear error, not a
//! silent replacement or a fallback to the other mode.
use vipd::dataplane::xdp::{AttachMode, XdpError, XdpProgram};
use vipd_tests::{
    kernel_tests_enabled,
    netns::{veth, Netns},
};

fn second_attach_fails(first: AttachMode, second: AttachMode) {
    let a = Netns::new("busy-a");
    let b = Netns::new("busy-b");
    veth(&a, "busy0", &b, "busy1");
    let mut owner = XdpProgram::load().expect("load the first program");
    let mut intruder = XdpProgram::load().expect("load the second program");

    a.run(|| owner.attach("busy0", first))
        .expect("first attach");
    let error = a
        .run(|| intruder.attach("busy0", second))
        .expect_err("a second program on the same interface");

    assert!(
        matches!(&error, XdpError::InterfaceBusy { interface } if interface == "busy0"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("already has an XDP program that vipd did not attach")
            && message.contains("ip link set dev busy0 xdp off"),
        "{message}"
    );
}

#[test]
fn a_second_program_in_the_same_mode_is_refused_with_a_clear_error() {
    if !kernel_tests_enabled() {
        return;
    }
    second_attach_fails(AttachMode::Driver, AttachMode::Driver);
    second_attach_fails(AttachMode::Generic, AttachMode::Generic);
}

#[test]
fn auto_mode_does_not_fall_back_around_another_program() {
    if !kernel_tests_enabled() {
        return;
    }
    second_attach_fails(AttachMode::Driver, AttachMode::Auto);
    second_attach_fails(AttachMode::Generic, AttachMode::Auto);
}

/// Whether `interface` in `ns` has an XDP program attached, according to iproute2.
fn has_xdp(ns: &Netns, interface: &str) -> bool {
    let out = ns.exec(&["ip", "-d", "link", "show", "dev", interface]);
    String::from_utf8_lossy(&out.stdout).contains("prog/xdp")
}

#[test]
fn the_program_leaves_the_interface_with_its_owner() {
    if !kernel_tests_enabled() {
        return;
    }
    let a = Netns::new("owner-a");
    let b = Netns::new("owner-b");
    veth(&a, "own0", &b, "own1");
    for mode in [AttachMode::Driver, AttachMode::Generic] {
        let mut program = XdpProgram::load().expect("load");
        a.run(|| program.attach("own0", mode)).expect("attach");
        assert!(has_xdp(&a, "own0"), "{mode:?}: attached");

        // Nothing is pinned: closing the object's fds (as exit or kill -9 does) detaches it.
        drop(program);

        assert!(!has_xdp(&a, "own0"), "{mode:?}: still attached after drop");
    }
}

/// On a veth, a native XDP_TX answer reaches the peer only if the peer has an XDP program, which
/// vipd cannot see: the default mode picks generic mode there.
#[test]
fn auto_mode_attaches_a_veth_in_generic_mode() {
    if !kernel_tests_enabled() {
        return;
    }
    let a = Netns::new("auto-a");
    let b = Netns::new("auto-b");
    veth(&a, "auto0", &b, "auto1");
    let mut program = XdpProgram::load().expect("load");
    let attachment = a
        .run(|| program.attach("auto0", AttachMode::Auto))
        .expect("attach");
    assert_eq!(attachment.mode, AttachMode::Generic);
    let out = a.exec(&["ip", "-d", "link", "show", "dev", "auto0"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("xdpgeneric"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn an_unknown_interface_is_named_in_the_error() {
    if !kernel_tests_enabled() {
        return;
    }
    let ns = Netns::new("unknown");
    let mut program = XdpProgram::load().expect("load");
    let error = ns
        .run(|| program.attach("nosuch0", AttachMode::Auto))
        .expect_err("no such interface");
    assert!(matches!(&error, XdpError::UnknownInterface(name) if name == "nosuch0"));
}
