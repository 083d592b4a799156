from paperfeed.netaddr import UNKNOWN_BUCKET, is_loopback, rate_bucket


def test_loopback_hosts():
    for host in (
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST.",
        "::ffff:127.0.0.1",
    ):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.org", "", "testclient"):
        assert not is_loopback(host), host


def test_ipv6_clients_are_counted_per_64():
    assert rate_bucket("2001:db8:1:2:aaaa::1") == rate_bucket("2001:db8:1:2:ffff:1:2:3")
    assert rate_bucket("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert rate_bucket("2001:db8:1:3::1") != rate_bucket("2001:db8:1:2::1")


def test_ipv4_clients_are_counted_per_address():
    assert rate_bucket("203.0.113.7") == "203.0.113.7"
    assert rate_bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert rate_bucket("203.0.113.8") != rate_bucket("203.0.113.7")


def test_unknown_clients_share_one_bucket():
    assert rate_bucket(None) == rate_bucket("") == rate_bucket("testclient") == UNKNOWN_BUCKET
