//! The preprocessor line by line: each expected expansion is worked out by hand from
//! keepalived.conf(5) ("ADVANCED CONFIGURATION") and keepalived's `read_line`.

use std::path::Path;

use super::{ConfigId, Line, Preprocessor, Problem};

/// The lines `text` amounts to for configuration id `id`.
fn expand(id: &str, text: &str) -> Vec<String> {
    try_expand(id, text).unwrap_or_else(|problem| panic!("{problem:?}"))
}

fn try_expand(id: &str, text: &str) -> Result<Vec<String>, Problem> {
    let mut pre = Preprocessor::new(&ConfigId::new(id));
    let mut out: Vec<Line> = Vec::new();
    for raw in text.lines() {
        pre.line(raw, Path::new("/etc/keepalived"), &mut out)?;
    }
    pre.end_of_file();
    Ok(out.into_iter().map(|line| line.text).collect())
}

#[test]
fn conditional_lines_follow_the_config_id() {
    // keepalived.conf(5)'s example, for -i main.
    let text = "\
@main   router_id main_router
@backup router_id backup_router
unicast_peer {
    @^main    1.2.3.4
    @^backup  1.2.3.5
    @^backup2 1.2.3.6
}";
    assert_eq!(
        expand("main", text),
        [
            "router_id main_router",
            "unicast_peer {",
            "1.2.3.5",
            "1.2.3.6",
            "}"
        ]
    );
    assert_eq!(
        expand("other", text),
        ["unicast_peer {", "1.2.3.4", "1.2.3.5", "1.2.3.6", "}"]
    );
    // A condition with nothing after it is dropped whatever the id; the id is a whole word.
    assert_eq!(expand("main", "@main\n@mai x\n@main\tx"), ["x"]);
}

#[test]
fn definitions_substitute_where_used_and_with_conditions() {
    let text = "\
@main $PRIORITY=240
@backup $PRIORITY=200
priority $PRIORITY
$IF_MAIN=@main
$IF_MAIN nopreempt
$EMPTY=
x${EMPTY}y";
    assert_eq!(expand("main", text), ["priority 240", "nopreempt", "xy"]);
    assert_eq!(expand("backup", text), ["priority 200", "xy"]);
    // Undefined names, and a `$` in a script, are left alone; `$NAME =` defines nothing.
    assert_eq!(
        expand("main", "script \"kill -0 $PID\"\n$A =1\n"),
        ["script \"kill -0 $PID\"", "$A =1"]
    );
}

#[test]
fn a_substituted_comment_character_starts_a_comment() {
    // keepalived runs its comment pass again after substituting.
    assert_eq!(
        expand("main", "$C=${_HASH} gone\nkeep $C\nauth_pass a\\#b"),
        ["keep", "auth_pass a#b"]
    );
}

#[test]
fn multi_line_definitions_expand_into_lines() {
    // keepalived.conf(5)'s first multi-line example, cut down.
    let text = "\
$INSTANCE= \\
vrrp_instance VI_${NUM} { \\
    interface eth0.${NUM} \\
    @high priority 130 \\
    @low priority 120 \\
}

$NUM=0
$INSTANCE
$NUM=1
$INSTANCE";
    assert_eq!(
        expand("high", text),
        [
            "vrrp_instance VI_0 {",
            "interface eth0.0",
            "priority 130",
            "}",
            "vrrp_instance VI_1 {",
            "interface eth0.1",
            "priority 130",
            "}",
        ]
    );
    // Not at the end of a line, a multi-line definition is not expanded.
    assert_eq!(expand("x", "$M=a \\\nb\n$M c"), ["$M c"]);
    // Text before the reference stays before the first line.
    assert_eq!(expand("x", "$M=a \\\nb\nx $M"), ["x a", "b"]);
}

#[test]
fn multi_line_definitions_nest_and_define() {
    // keepalived.conf(5)'s second example, cut down: a definition inside a definition's lines
    // takes effect as those lines are read.
    let text = "\
$RS= \\
real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\
    weight 1 \\
}
$VS= \\
virtual_server 10.0.${VS_NUM}.4 80 { \\
    $RS_NUM=1 \\
    $RS \\
    $RS_NUM=2 \\
    $RS \\
}

$VS_NUM=0
$VS";
    assert_eq!(
        expand("x", text),
        [
            "virtual_server 10.0.0.4 80 {",
            "real_server 192.168.0.1 80 {",
            "weight 1",
            "}",
            "real_server 192.168.0.2 80 {",
            "weight 1",
            "}",
            "}",
        ]
    );
}

#[test]
fn a_blank_line_ends_a_multi_line_definition_and_a_comment_line_does_not() {
    let text = "$M= \\\na \\\n! note\nb \\\n\nc";
    assert_eq!(expand("x", &format!("{text}\n$M")), ["c", "a", "b"]);
}

#[test]
fn seq_replicates_the_rest_of_the_line() {
    assert_eq!(
        expand("x", "~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1"),
        [
            "ip_address 10.0.0.1",
            "ip_address 10.0.1.1",
            "ip_address 10.0.2.1",
            "ip_address 10.0.3.1",
        ]
    );
    // keepalived.conf(5): two sequences on one line nest, the first outermost.
    assert_eq!(
        expand(
            "x",
            "~SEQx(AD2, 0x90, 0x10, 0xa0) ~SEQx(AD1, 0x12, -1, 0x11) fe81::10:${AD2}:${AD1}"
        ),
        [
            "fe81::10:90:12",
            "fe81::10:90:11",
            "fe81::10:a0:12",
            "fe81::10:a0:11",
        ]
    );
    // Conditions and definitions apply inside each round.
    assert_eq!(expand("b", "~SEQ(I, 2) @b x$I."), ["x$I.", "x$I."]);
    assert_eq!(expand("b", "~SEQ(I, 2) @b x${I}."), ["x1.", "x2."]);
    assert_eq!(expand("a", "~SEQ(I, 2) @b x${I}."), Vec::<String>::new());
}

#[test]
fn seq_replicates_multi_line_definitions() {
    let text = "$VI= \\\nvrrp_instance v${ID} { \\\n}\n\n~SEQ(ID, 1, 2) $VI";
    assert_eq!(
        expand("x", text),
        ["vrrp_instance v1 {", "}", "vrrp_instance v2 {", "}"]
    );
}

#[test]
fn lst_replicates_for_each_value() {
    // keepalived.conf(5)'s combined example, cut down.
    assert_eq!(
        expand(
            "x",
            "~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}"
        ),
        [
            "192.168.10.1",
            "192.170.10.1",
            "192.168.20.4",
            "192.170.20.4"
        ]
    );
}

#[test]
fn pre_defined_definitions_know_the_file_and_the_host() {
    assert_eq!(
        expand("lb1", "script \"${_PWD}/check.sh ${_INSTANCE}\""),
        ["script \"/etc/keepalived/check.sh lb1\""]
    );
}

#[test]
fn problems_are_placed_at_their_line() {
    let problem = try_expand("x", "\n   ~SEQ(I, 1, 0, 3) x").unwrap_err();
    assert_eq!(problem.column, 4);
    assert!(problem.message.contains("STEP"), "{}", problem.message);
    let looping = try_expand("x", "$A=x$A\n$A").unwrap_err();
    assert!(
        looping.message.contains("use itself"),
        "{}",
        looping.message
    );
    let nesting = try_expand("x", "$A= \\\nx \\\n$A\n\n$A").unwrap_err();
    assert!(
        nesting.message.contains("nest deeper"),
        "{}",
        nesting.message
    );
}

#[test]
fn sequences_that_multiply_are_refused_even_when_they_only_define() {
    let problem = try_expand("x", "~SEQ(A, 60000) ~SEQ(B, 60000) $X=1").unwrap_err();
    assert!(
        problem.message.contains("more than 200000 lines"),
        "{}",
        problem.message
    );
}

#[test]
fn the_host_id_is_the_name_up_to_its_first_dot() {
    let id = ConfigId::of_this_host();
    assert!(!id.as_str().contains('.'), "{id:?}");
}
