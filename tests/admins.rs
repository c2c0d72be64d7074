//! Administrators (SPEC §9): `user add --admin`, `user admin NAME on|off` and the flag
//! in `user list`, on a stopped server's store and through a running server's socket.

use crate::harness::Env;

/// Makes `root` an administrator and `alice` one and back, checking `user list`.
fn flag_round_trip(env: &Env) {
    env.ok(
        &["user", "add", "root", "--admin", "--password-stdin"],
        "pw\n",
    );
    env.add_user("alice", "pw");
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nroot (admin)\n");
    assert_eq!(
        env.ok(&["user", "admin", "alice", "on"], ""),
        "alice is an administrator\n"
    );
    assert_eq!(
        env.ok(&["user", "list"], ""),
        "alice (admin)\nroot (admin)\n"
    );
    env.ok(&["user", "passwd", "alice", "--password-stdin"], "new\n");
    assert_eq!(
        env.ok(&["user", "list"], ""),
        "alice (admin)\nroot (admin)\n"
    );
    assert_eq!(
        env.ok(&["user", "admin", "alice", "off"], ""),
        "alice is not an administrator\n"
    );
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nroot (admin)\n");
    let line = env.fails(&["user", "admin", "nobody", "on"], "");
    assert!(line.contains("nobody: no such user"), "{line}");
}

#[test]
fn the_admin_flag_is_set_and_listed_on_a_stopped_server() {
    flag_round_trip(&Env::new());
}

#[test]
fn the_admin_flag_is_set_and_listed_through_the_running_server() {
    let env = Env::new();
    let _server = env.serve(&[]);
    flag_round_trip(&env);
}
