//! vipd's keepalived.conf preprocessor against keepalived's own: a file whose lines are all
//! templates (`@ID`, definitions, multi-line definitions, `~SEQ`, `~LST`, the pre-defined
//! definitions) that expand to made-up keywords. Both keepalived and vipd name each unknown
//! keyword they meet, so the two lists of names are the two expansions, and must be equal.
use std::{fs, process::Command};

use vipd_tests::vipd::Scratch;

/// Every construct keepalived.conf(5) describes under "ADVANCED CONFIGURATION", each line
/// expanding to keywords starting `K_`; the configuration id is `lb1`.
const TEMPLATES: &str = r"$A=1
$B=x${A}
K_$A
K_${B}_z
@lb1 K_lb1
@^lb1 K_not_lb1
@lb2 K_lb2
@^lb2 K_not_lb2
$M= \
  K_m1_${A} \
  @lb1 K_m2 \
  K_m3
$A=2
$M
$F=K_f1 \
K_f2
$F
$V=K_v1 \

K_after_blank
$V
~SEQ(I, 3) K_seq_${I}
~SEQ(DOWN, 3, 1) K_down_${DOWN}
~SEQ(NEG, -2) K_neg${NEG}
~SEQx(H, 0x9, 0x2, 0xd) K_hex_${H}
$N=2
~SEQ(COUNT, $N) K_count_${COUNT}
~LST({P, Q}, {a,b},{c}) K_lst_${P}_${Q}
~SEQ(I2, 2) ~SEQ(J, 2) K_nest_${I2}_${J}
$INNER= \
K_inner_${OUTER}
$OUTER_BLOCK= \
$OUTER=o1 \
$INNER \
$OUTER=o2 \
$INNER
$OUTER_BLOCK
K_hash_${_HASH}x
K_bang_${_BANG}x
K_instance_${_INSTANCE}
K_random_${_RANDOM 5 5}
$E=
K_e${E}e
$SEQDEF=~SEQ(Z, 2) K_viadef_${Z}
$SEQDEF
$IF=@lb1
$IF K_if
$S=K_s
$S,x
${S}y
$Sz
$T=$S
$T
K_dollar_$1 K_x
";

/// The names in `text` of each `marker`NAME`end`, in order.
fn names(text: &str, marker: &str, end: char) -> Vec<String> {
    text.split(marker)
        .skip(1)
        .filter_map(|rest| rest.split(end).next())
        .map(str::to_string)
        .collect()
}

#[test]
fn templates_expand_as_keepalived_expands_them() {
    let Ok(keepalived) = Command::new("keepalived").arg("--version").output() else {
        assert!(
            std::env::var_os("VIPD_REQUIRE_KERNEL_TESTS").is_none(),
            "no keepalived binary (VIPD_REQUIRE_KERNEL_TESTS is set, so this test may not be skipped)"
        );
        eprintln!("skipping: no keepalived binary to compare with");
        return;
    };
    assert!(keepalived.status.success(), "keepalived --version failed");
    let dir = Scratch::new("templates");
    let path = dir.path().join("keepalived.conf");
    fs::write(&path, TEMPLATES).unwrap();

    let out = Command::new("keepalived")
        .args(["--config-test", "-i", "lb1", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // keepalived's parent and each child it would run read the file: the list repeats.
    let all = names(&said, "Unknown keyword '", '\'');
    let period = (1..=all.len())
        .find(|&p| all.len().is_multiple_of(p) && all.chunks(p).all(|chunk| chunk == &all[..p]))
        .unwrap_or(all.len());
    let mut expected = all[..period].to_vec();

    let out = Command::new(vipd_tests::vipd::binary())
        .args(["import-keepalived", "-i", "lb1"])
        .arg(&path)
        .output()
        .unwrap();
    let mut got = names(
        &String::from_utf8_lossy(&out.stderr),
        "unknown keyword `",
        '`',
    );

    assert!(
        expected.len() > 40,
        "keepalived named too few keywords:\n{said}"
    );
    // vipd sorts its diagnostics by line and column, and the lines of one expansion share
    // their source line: compare the sets of names.
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}
