"""`mcplint verify` and `mcplint probe` against the real stack (tests/livestack): every live
rule fires on a misconfigured variant, a healthy deployment gives nothing above info, and
hostile servers end in findings within the deadline and bounded memory."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from livestack import Proxy, Redirect, Stack, Static
from support import run_mcplint

HEALTHY_AS = "auth"
# scenario -> the findings it must give (codes; the "not verifiable" MCP606 info aside).
EXPECTED: dict[str, set[str]] = {
    "healthy": set(), "open-healthy": set(),
    "generation-legacy-only": {"MCP111"}, "generation-new-only": {"MCP109"},
    "edge-bot-discovery": {"MCP307"},
    "hint-relative": {"MCP415"}, "hint-404": {"MCP415"},
    "prm-path-500": {"MCP403", "MCP416"}, "as-html-200": {"MCP416"},
    "prm-missing-as-root": {"MCP414"},
    "open-as-metadata": {"MCP110"}, "static-headers-prm-401": {"MCP110"},
    "static-headers-healthy": set(),
    "dns-private": {"MCP201"}, "dns-cgnat": {"MCP201"}, "dns-linklocal": {"MCP201"},
    "dns-loopback": {"MCP201"}, "dns-mixed": {"MCP202"}, "dns-v6only": {"MCP203"},
    "dns-nxdomain": {"MCP204"}, "dns-split": {"MCP205"},
    "redirect-cross-host": {"MCP305"}, "redirect-same-host": {"MCP306"},
    "redirect-loop": {"MCP306"}, "redirect-to-http": {"MCP311"},
    "edge-cloudflare-block": {"MCP307"}, "edge-rate-limit": {"MCP307"},
    "edge-aws-waf-block": {"MCP307"},
    "tls-wrong-cert": {"MCP309"}, "unreachable-timeout": {"MCP308"},
    "unreachable-refused": {"MCP308"},
    "challenge-root-prm": {"MCP403"}, "challenge-path-prm": {"MCP403"},
    "prm-missing": {"MCP405"}, "prm-resource-slash": {"MCP407"}, "prm-issuer-slash": {"MCP409"},
    "prm-offline-access": {"MCP410"}, "prm-html": {"MCP406"}, "prm-invalid-json": {"MCP406"},
    "prm-no-authorization-servers": {"MCP408"},
    "challenge-none": {"MCP401"}, "challenge-no-header": {"MCP402"},
    "challenge-not-bearer": {"MCP404"},
    "endpoint-404": {"MCP108"}, "endpoint-405": {"MCP108"}, "endpoint-html": {"MCP108"},
    "token-accepts-malformed": {"MCP604"},
    "ssrf-metadata": {"MCP201"}, "ssrf-loopback": {"MCP201"},
    "as-issuer-slash": {"MCP502"}, "as-no-s256": {"MCP505"}, "as-no-registration": {"MCP506"},
    "as-cimd-no-none": {"MCP507"}, "as-member-type": {"MCP520"},
    "as-secret-basic-only": {"MCP517"},
    "as-advice": {"MCP518", "MCP519"},  # advice outside claude-ai: under --profile spec
    "as-oidc-only": {"MCP512"}, "as-missing": {"MCP501"},
    "as-tenant-path": {"MCP512"}, "as-slow": {"MCP605"}, "token-slow": {"MCP605"},
    "token-invalid-request": {"MCP603"}, "token-415": {"MCP602"}, "token-500": {"MCP603"},
    "registration-400": {"MCP513"}, "registration-redirect": {"MCP513"},
    "registration-no-secret-post": {"MCP513"},
    "resource-rejected": {"MCP606"},
    "hostile-drip": {"MCP308"}, "hostile-drip-body": {"MCP308"}, "hostile-reset": {"MCP308"},
    "hostile-endless": {"MCP401"}, "hostile-invalid-json": {"MCP406"},
    "hostile-deep-json": {"MCP406"},
}
# What a scenario needs beyond the defaults: a longer timeout, an opt-in probe.
EXTRA_ARGS: dict[str, list[str]] = {
    "as-advice": ["--profile", "spec"],
    "as-slow": ["--timeout", "20"],
    "token-slow": ["--timeout", "20"],  # above the 12 s it takes: slow, not unreachable
    "registration-400": ["--probe-registration"],
    "registration-redirect": ["--probe-registration"],
    "registration-no-secret-post": ["--probe-registration"],
    "resource-rejected": ["--probe-registration"],
}
FAST = ["--timeout", "4", "--deadline", "30"]


def verify(stack: Stack, folder: Path, manifest: dict[str, Any], *args: str,
           hosts: tuple[str, ...] = (), scenario: str | None = None,
           timeout: float = 120) -> tuple[int, dict[str, Any], str]:
    """Run `mcplint verify --format json` on a manifest; (exit code, report, stderr)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mcp-connector.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    options = [*FAST, *args] if "--timeout" not in args else list(args)
    completed = run_mcplint("verify", str(path), "--format", "json", *options,
                            *stack.cli_args(scenario, hosts=hosts), timeout=timeout)
    assert completed.returncode in (0, 1, 3), completed.stderr
    return completed.returncode, json.loads(completed.stdout), completed.stderr


def codes(report: dict[str, Any]) -> set[str]:
    """The findings' codes, less the checks that could not be verified (MCP606 without a
    real client, MCP109 behind OAuth)."""
    return {f["code"] for f in report["findings"] if f["outcome"] != "not-verified"}


def live_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["source"] == "live"]


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_scenario(livestack: Stack, tmp_path: Path, scenario: str) -> None:
    manifest = livestack.manifest(scenario)
    _, report, _ = verify(livestack, tmp_path, manifest, *EXTRA_ARGS.get(scenario, []),
                          scenario=scenario)
    assert codes(report) == EXPECTED[scenario], json.dumps(report["findings"], indent=1)
    for finding in live_findings(report):
        assert finding["evidence"], finding
        assert finding["line"] and finding["file"], finding  # located in the manifest
    if not EXPECTED[scenario]:
        assert all(f["severity"] == "info" for f in report["findings"])


def test_healthy_verify_with_registration_verifies_the_resource(livestack: Stack,
                                                                  tmp_path: Path) -> None:
    _, report, _ = verify(livestack, tmp_path, livestack.manifest("healthy"),
                          "--probe-registration", scenario="healthy")
    # A real client: MCP606 is judged, and passes; behind OAuth the protocol generations
    # are not verifiable (MCP109 info), as catalog v2 says.
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("MCP109", "info")]


def test_registration_is_claudes_and_is_deleted_again(livestack: Stack, tmp_path: Path) -> None:
    """--probe-registration asks for what hosted-client.yaml says Claude asks for, with the
    hosted callbacks; the token probe authenticates as the answer says (client_secret_post);
    then the client is deleted through RFC 7592, which oidc-provider offers."""
    from mcplint.policy.catalog import load_builtin

    data = load_builtin().data
    record = tmp_path / "record.json"
    _, report, _ = verify(livestack, tmp_path, livestack.manifest("healthy"),
                          "--probe-registration", "--record", str(record), scenario="healthy")
    assert [f["code"] for f in report["findings"] if f["severity"] != "info"] == []
    requests = json.loads(record.read_text())["verifications"][0]["requests"]
    (post,) = [r for r in requests if r["step"] == "registration"]
    sent = json.loads(post["request"]["body"])
    asked = data["hosted_client"]["registration"]["dcr_request"]["value"]
    assert {k: sent[k] for k in asked} == asked
    assert sent["token_endpoint_auth_method"] == "client_secret_post"
    assert sent["redirect_uris"] == data["callbacks"]["hosted"]
    assert post["response"]["status"] == 201
    answer = post["response"]["body"]
    assert answer["client_secret"] == answer["registration_access_token"] == "<redacted>"
    (refresh,) = [r for r in requests if r["step"] == "token-refresh"]
    assert "client_secret=<redacted>" in refresh["request"]["body"]
    assert refresh["response"]["body"]["error"] == "invalid_grant"  # the client was accepted
    (delete,) = [r for r in requests if r["step"] == "registration-delete"]
    assert delete["method"] == "DELETE" and delete["url"] == answer["registration_client_uri"]
    assert delete["response"]["status"] == 204
    assert delete["started_ms"] >= refresh["started_ms"] + refresh["elapsed_ms"]
    sent_headers = dict(delete["request"]["headers"])
    assert sent_headers["Authorization"] == "Bearer <redacted>"


def test_registration_answered_with_another_method_passes(livestack: Stack,
                                                          tmp_path: Path) -> None:
    """A 201 that gives client_secret_basic instead of the client_secret_post asked for is a
    pass (the hosted client uses what the answer says), and the token probe then
    authenticates with HTTP Basic; no management offered, so nothing to delete."""
    host = f"regbasic.{livestack.catalog.custom_suffix}"
    manifest = _site_manifest(livestack, host, f"https://{host}")
    manifest["hosts"] = {host: {}}
    livestack.static_site("regbasic", {
        "/mcp": Proxy("mcp", issuer=f"https://{host}"),
        "/.well-known/oauth-protected-resource/mcp": Proxy("mcp", issuer=f"https://{host}"),
        "/.well-known/oauth-authorization-server": Static.json(200, _regbasic_metadata(
            livestack, host)),
        "/reg": Static.json(201, {"client_id": "regbasic-client", "client_secret": "s3cr3t-x",
                                  "token_endpoint_auth_method": "client_secret_basic",
                                  "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]}),
        "/token": Proxy("as"),
    })
    record = tmp_path / "record.json"
    _, report, _ = verify(livestack, tmp_path, manifest, "--probe-registration", "--record",
                          str(record), hosts=(host,))
    assert "MCP513" not in codes(report), report["findings"]
    assert all(f["severity"] == "info" for f in report["findings"]), report["findings"]
    requests = json.loads(record.read_text())["verifications"][0]["requests"]
    (refresh,) = [r for r in requests if r["step"] == "token-refresh"]
    assert dict(refresh["request"]["headers"])["Authorization"].startswith("Basic ")
    assert "client_secret" not in refresh["request"]["body"]
    assert not [r for r in requests if r["step"] == "registration-delete"]
    assert "s3cr3t-x" not in json.dumps(report)


def _regbasic_metadata(stack: Stack, host: str) -> dict[str, Any]:
    auth = f"https://{stack.host(HEALTHY_AS)}"
    return json.loads(json.dumps(stack.healthy_as_metadata).replace(auth, f"https://{host}"))


def test_healthy_text_output(livestack: Stack, tmp_path: Path) -> None:
    path = livestack.write_manifest("healthy", tmp_path)
    completed = run_mcplint("verify", str(path), *livestack.cli_args("healthy"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # MCP606 without a client the AS knows, and the protocol generation behind OAuth (both
    # first contacts get the same 401), are not verified: apart from problems (issue 16).
    assert "MCP606 not verified resource-rejected" in completed.stdout
    assert "No problems found in 1 manifest." in completed.stdout
    assert "Not verified (no problem, not a pass): 2  (MCP109, MCP606)" in completed.stdout
    assert not re.search(r": MCP\d{3} (error|warning) ", completed.stdout)


def test_healthy_reads_healthy_in_every_format(livestack: Stack, tmp_path: Path) -> None:
    """A healthy deployment: ✅, MCP606 (and MCP109: the generation behind OAuth) only under
    "not verified", exit 0 in every format,
    even with --fail-on info (a check that could not be made fails nothing)."""
    path = livestack.write_manifest("healthy", tmp_path)
    names = ("json", "sarif", "junit", "github", "markdown", "gitlab")
    outputs = [str(tmp_path / f"report.{name}") for name in names]
    args = [a for name, out in zip(names, outputs) for a in ("--format", name, "--output", out)]
    completed = run_mcplint("verify", str(path), *args, "--fail-on", "info", *FAST,
                            *livestack.cli_args("healthy"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(Path(outputs[0]).read_text())
    assert report["report_version"] == "2"
    assert report["summary"]["findings"] == 0 and report["summary"]["not_verified"] == 2
    assert sorted((f["code"], f["outcome"]) for f in report["findings"]) == [
        ("MCP109", "not-verified"), ("MCP606", "not-verified")]
    (mcp606,) = [f for f in report["findings"] if f["code"] == "MCP606"]
    assert "--probe-registration" in mcp606["message"]
    sarif = json.loads(Path(outputs[1]).read_text())
    results = sarif["runs"][0]["results"]
    assert sorted((r["ruleId"], r["kind"], r["level"]) for r in results) == [
        ("MCP109", "open", "none"), ("MCP606", "open", "none")]
    junit = Path(outputs[2]).read_text()
    assert "<failure" not in junit and 'skipped="2"' in junit
    github = Path(outputs[3]).read_text()
    assert "::notice " in github and "(not verified)" in github and "::error" not in github
    markdown = Path(outputs[4]).read_text()
    head, _, rest = markdown.partition("\n")
    assert head == "## ✅ mcplint verify: no problems in 1 manifest; 2 checks not verified"
    mentions = [line for line in rest.splitlines() if "MCP606" in line]
    assert mentions and all("not verified" in line.lower() for line in mentions), mentions
    assert "❌" not in markdown
    issues = json.loads(Path(outputs[5]).read_text())
    assert len(issues) == 2 and all(
        i["severity"] == "info" and "(not verified)" in i["description"] for i in issues)


def test_an_html_prm_says_it_was_html(livestack: Stack, tmp_path: Path) -> None:
    _, report, _ = verify(livestack, tmp_path, livestack.manifest("prm-html"),
                          scenario="prm-html")
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP406"]
    assert "is an HTML page (text/html" in finding["message"]
    assert "single-page app" in finding["message"]


def test_a_trailing_slash_on_server_url_is_one_root_cause(livestack: Stack,
                                                          tmp_path: Path) -> None:
    manifest = livestack.manifest("healthy")
    manifest["server"]["url"] += "/"
    _, report, _ = verify(livestack, tmp_path, manifest, scenario="healthy")
    found = [f for f in report["findings"] if f["outcome"] == "problem"]
    assert [f["code"] for f in found] == ["MCP102", "MCP306"], found
    assert found[1]["caused_by"] == found[0]["fingerprint"]  # the redirect, under the slash


def test_with_probe_registration_mcp606_does_not_ask_for_it(livestack: Stack,
                                                            tmp_path: Path) -> None:
    scenario = "registration-400"  # registration refused: still no client the AS knows
    _, report, _ = verify(livestack, tmp_path, livestack.manifest(scenario),
                          "--probe-registration", scenario=scenario)
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP606"]
    assert finding["outcome"] == "not-verified"
    assert "use --probe-registration" not in finding["message"]
    assert "declare auth.client" in finding["message"]


def test_evidence_names_the_request(livestack: Stack, tmp_path: Path) -> None:
    _, report, _ = verify(livestack, tmp_path, livestack.manifest("redirect-cross-host"),
                          scenario="redirect-cross-host")
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP305"]
    host = livestack.host("redirect-cross-host")
    assert finding["evidence"]["url"] == f"https://{host}/mcp"
    assert finding["evidence"]["status"] == 307
    assert finding["evidence"]["header"] == f"location: https://{livestack.host('mcp')}/mcp"
    assert finding["line"] == 4 and finding["pointer"] == "/server/url"


def test_undeclared_answers_are_mcp206(livestack: Stack, tmp_path: Path) -> None:
    manifest = livestack.manifest("healthy")
    manifest["hosts"][livestack.host("mcp")] = {"dns": {"addresses": ["203.0.113.0/24"]}}
    _, report, _ = verify(livestack, tmp_path, manifest, scenario="healthy")
    # The declared range is a documentation block: MCP201 statically, MCP206 live.
    assert codes(report) == {"MCP201", "MCP206"}
    (live,) = [f for f in report["findings"] if f["code"] == "MCP206"]
    assert live["pointer"].endswith("/dns/addresses") and "104.16.1.1" in live["message"]


def test_registration_mismatch_live(livestack: Stack, tmp_path: Path) -> None:
    manifest = livestack.manifest("healthy", auth={"registration": ["cimd"]})
    _, report, _ = verify(livestack, tmp_path, manifest, scenario="healthy")
    assert codes(report) == {"MCP508"}
    assert "cimd" in report["findings"][0]["message"] or any(
        "cimd" in f["message"] for f in report["findings"] if f["code"] == "MCP508")


def test_drift_from_declared_documents(livestack: Stack, tmp_path: Path) -> None:
    mcp, auth = livestack.host("mcp"), livestack.host(HEALTHY_AS)
    declared_prm = {"resource": f"https://{mcp}/mcp", "authorization_servers": [f"https://{auth}"],
                    "scopes_supported": ["mcp:read"], "bearer_methods_supported": ["header"]}
    declared_as = {**livestack.healthy_as_metadata, "token_endpoint": f"https://{auth}/oauth/token"}
    manifest = livestack.manifest("healthy", auth={"resource_metadata": declared_prm,
                                                   "authorization_server_metadata": declared_as})
    _, report, _ = verify(livestack, tmp_path, manifest, scenario="healthy")
    assert codes(report) == {"MCP413", "MCP515"}
    messages = {f["code"]: f["message"] for f in report["findings"]}
    assert "scopes_supported" in messages["MCP413"]
    assert "token_endpoint" in messages["MCP515"]


def _site_manifest(stack: Stack, host: str, issuer: str) -> dict[str, Any]:
    return {"version": 1, "server": {"url": f"https://{host}/mcp"},
            "auth": {"type": "oauth", "issuer": issuer, "audience": f"https://{host}/mcp",
                     "registration": ["dcr"]},
            "hosts": {host: {}, stack.host(HEALTHY_AS): {}}}


def _verify_served_prm(stack: Stack, folder: Path, site: str,
                       extra: dict[str, Any]) -> dict[str, Any]:
    """Verify a host whose PRM is the minimal one for it plus `extra` (with the healthy AS)."""
    host = f"{site}.{stack.catalog.custom_suffix}"
    issuer = f"https://{stack.host(HEALTHY_AS)}"
    prm = {"resource": f"https://{host}/mcp", "authorization_servers": [issuer],
           **{k: v.format(host=host) if isinstance(v, str) else v for k, v in extra.items()}}
    stack.static_site(site, {
        "/mcp": Proxy("mcp"),
        "/.well-known/oauth-protected-resource/mcp": Static.json(200, prm),
    })
    _, report, _ = verify(stack, folder, _site_manifest(stack, host, issuer),
                          hosts=(host, stack.host(HEALTHY_AS)))
    return report


def test_prm_without_scopes(livestack: Stack, tmp_path: Path) -> None:
    report = _verify_served_prm(livestack, tmp_path, "noscopes", {})
    assert codes(report) == {"MCP411"}


def test_prm_naming_plain_http_urls(livestack: Stack, tmp_path: Path) -> None:
    report = _verify_served_prm(livestack, tmp_path, "plainhttp", {
        "scopes_supported": ["mcp:read"], "resource_documentation": "http://{host}/docs"})
    assert codes(report) == {"MCP412"}


def _as_site(stack: Stack, name: str, change: dict[str, Any],
             drop: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """A host serving the MCP server and a modified copy of the healthy AS metadata."""
    host = f"{name}.{stack.catalog.custom_suffix}"
    issuer = f"https://{host}"
    metadata = {k: v for k, v in stack.healthy_as_metadata.items() if k not in drop}
    auth = stack.host(HEALTHY_AS)
    metadata = json.loads(json.dumps(metadata).replace(f"https://{auth}", issuer))
    metadata.update(change)
    stack.static_site(name, {
        "/mcp": Proxy("mcp", issuer=issuer),
        "/.well-known/oauth-protected-resource/mcp": Proxy("mcp", issuer=issuer),
        "/.well-known/oauth-authorization-server": Static.json(200, metadata),
        "/.well-known/openid-configuration": Static.json(200, metadata),
        "/token": Proxy("as"), "/reg": Proxy("as"),
    })
    manifest = _site_manifest(stack, host, issuer)
    manifest["hosts"] = {host: {}}
    return host, manifest


@pytest.mark.parametrize(("name", "change", "drop", "expected"), [
    ("asnotoken", {}, ("token_endpoint",), {"MCP504"}),
    ("ashttp", {"revocation_endpoint": "http://revoke.example.org/revoke"}, (), {"MCP509"}),
    ("asgrants", {"grant_types_supported": ["authorization_code"]}, (), {"MCP514"}),
    ("asnojwks", {}, ("jwks_uri", "subject_types_supported"), {"MCP511"}),
    # One root cause is one member: MCP520 on the CIMD flag does not hide MCP505 on PKCE.
    ("astypes", {"client_id_metadata_document_supported": "true",
                 "code_challenge_methods_supported": ["plain"]}, (), {"MCP520", "MCP505"}),
])
def test_authorization_server_metadata(livestack: Stack, tmp_path: Path, name: str,
                                       change: dict[str, Any], drop: tuple[str, ...],
                                       expected: set[str]) -> None:
    host, manifest = _as_site(livestack, name, change, drop)
    _, report, _ = verify(livestack, tmp_path, manifest, hosts=(host,))
    assert codes(report) == expected, report["findings"]


def test_advice_on_the_served_metadata_under_the_spec_profile(livestack: Stack,
                                                              tmp_path: Path) -> None:
    """The live halves of MCP518 and MCP519, advice outside claude-ai: the served metadata
    offers DCR alone (no CIMD) and does not advertise RFC 9207's iss parameter."""
    host, manifest = _as_site(livestack, "asadvice", {
        "authorization_response_iss_parameter_supported": False})
    _, report, _ = verify(livestack, tmp_path, manifest, "--profile", "spec", hosts=(host,))
    live = {f["code"]: f for f in report["findings"] if f["source"] == "live"}
    assert {"MCP518", "MCP519"} <= set(live), report["findings"]
    assert all(f["severity"] == "info" for f in report["findings"]), report["findings"]
    _, report, _ = verify(livestack, tmp_path / "claude", manifest, hosts=(host,))
    assert codes(report) == set(), report["findings"]  # not claude-ai's


def test_ssrf_targets_are_never_contacted(livestack: Stack, tmp_path: Path) -> None:
    for scenario, target in (("ssrf-metadata", "169.254.169.254"), ("ssrf-loopback", "127.0.0.1")):
        record = tmp_path / f"{scenario}.json"
        _, report, _ = verify(livestack, tmp_path / scenario, livestack.manifest(scenario),
                              "--record", str(record), scenario=scenario)
        requests = json.loads(record.read_text())["verifications"][0]["requests"]
        hinted = [r for r in requests if urlhost(r["url"]) == target]
        assert hinted, requests
        assert all(r["connected_to"] is None and r["error"] == "not-public" for r in hinted)
        (finding,) = [f for f in report["findings"] if f["code"] == "MCP201"]
        assert target in finding["message"]


def urlhost(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def test_non_public_dns_answer_is_not_contacted_without_connect_to(livestack: Stack,
                                                                   tmp_path: Path) -> None:
    """Without --connect-to, a name resolving to a private address is judged, not reached."""
    scenario = livestack.scenario("dns-private")
    manifest = livestack.manifest(scenario)
    record = tmp_path / "record.json"
    # Every --connect-to but the MCP host's: that one is left to DNS, which says 10.0.0.5.
    others = [h for h in scenario.hosts if h != scenario.mcp_host]
    kept = [a for a in livestack.cli_args(None, hosts=others)]
    path = tmp_path / "mcp-connector.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    completed = run_mcplint("verify", str(path), "--format", "json", "--record", str(record),
                            *FAST, *kept)
    report = json.loads(completed.stdout)
    assert "MCP201" in codes(report)
    requests = json.loads(record.read_text())["verifications"][0]["requests"]
    mcp = [r for r in requests if r["host"] == scenario.mcp_host]
    assert mcp and all(r["connected_to"] is None and r["error"] == "not-public" for r in mcp)


def test_hostile_servers_end_within_the_deadline(livestack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    _, report, _ = verify(livestack, tmp_path, livestack.manifest("hostile-drip"),
                          "--timeout", "30", "--deadline", "5", scenario="hostile-drip")
    elapsed = time.monotonic() - started
    assert elapsed < 12, elapsed
    assert "MCP308" in codes(report)


def test_several_manifests_are_each_verified_against_their_own_deployment(
        livestack: Stack, tmp_path: Path) -> None:
    """One run, one probing process, the manifests' jobs in order: each report entry
    holds its own live findings and its own requests."""
    scenarios = ["prm-resource-slash", "healthy", "as-no-s256"]
    paths = []
    for scenario in scenarios:
        path = tmp_path / scenario / "mcp-connector.yaml"
        path.parent.mkdir()
        path.write_text(yaml.safe_dump(livestack.manifest(scenario), sort_keys=False))
        paths.append(str(path))
    hosts = tuple(h for s in scenarios for h in livestack.scenario(s).hosts)
    record = tmp_path / "record.json"
    completed = run_mcplint("verify", *paths, "--format", "json", "--record", str(record),
                            *FAST, *livestack.cli_args("healthy", hosts=hosts))
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    by_file = {Path(f["path"]).parent.name: f for f in report["files"]}
    for scenario in scenarios:
        found = {f["code"] for f in report["findings"]
                 if Path(f["file"]).parent.name == scenario and f["severity"] != "info"}
        assert found == EXPECTED[scenario], (scenario, found)
        assert by_file[scenario]["path"].endswith(f"{scenario}/mcp-connector.yaml")
    verifications = json.loads(record.read_text())["verifications"]
    assert [Path(v["manifest"]).parent.name for v in verifications] == scenarios
    for verification, scenario in zip(verifications, scenarios):
        post = next(r for r in verification["requests"] if r["step"] == "mcp-post")
        assert post["url"] == livestack.scenario(scenario).server_url


def test_no_resolver_answering_is_exit_code_3(livestack: Stack, tmp_path: Path) -> None:
    path = livestack.write_manifest("healthy", tmp_path)
    args = livestack.cli_args("healthy", nameserver="dead", system_resolver="none")
    completed = run_mcplint("verify", str(path), *FAST, *args)
    assert completed.returncode == 3, completed.stdout + completed.stderr
    assert "none of the resolvers answered" in completed.stderr


def test_the_configs_live_section_reaches_the_probes(livestack: Stack, tmp_path: Path) -> None:
    """live.timeout comes from the config when the command line does not give it: here 2 s,
    so the AS that answers after 11 s is cut (MCP308), not merely slow (MCP605). (The config
    may no longer name resolvers: test_security.py.)"""
    path = livestack.write_manifest("as-slow", tmp_path)
    (tmp_path / ".mcplint.yaml").write_text("live:\n  timeout: 2\n")
    completed = run_mcplint("verify", str(path), "--format", "json", "--deadline", "30",
                            *livestack.cli_args("as-slow"), cwd=tmp_path)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    found = {f["code"] for f in json.loads(completed.stdout)["findings"]}
    assert "MCP605" not in found and found & {"MCP308", "MCP501"}, found


def test_record_redacts_secrets(livestack: Stack, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    verify(livestack, tmp_path, livestack.manifest("healthy"), "--record", str(record),
           scenario="healthy")
    text = record.read_text()
    assert "mcplint.invalid.token" not in text and "Bearer <redacted>" in text
    requests = json.loads(text)["verifications"][0]["requests"]
    steps = {r["step"] for r in requests}
    assert {"mcp-post", "invalid-token", "prm", "as-metadata", "token-refresh"} <= steps


def test_static_headers_need_their_environment(livestack: Stack, tmp_path: Path) -> None:
    manifest = livestack.manifest("healthy", auth={
        "type": "static-headers", "headers": {"Authorization": "Bearer ${MCPLINT_TEST_TOKEN}"},
        "issuer": None, "audience": None, "registration": None})
    path = tmp_path / "mcp-connector.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    completed = run_mcplint("verify", str(path), "--send-credentials",
                            "--credential-env", "MCPLINT_TEST_TOKEN", *FAST,
                            *livestack.cli_args("healthy"))
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        "mcplint: error: --send-credentials: environment variable MCPLINT_TEST_TOKEN (for "
        "auth.headers.Authorization) is not set")


def test_probe_healthy_passes_every_step(livestack: Stack) -> None:
    url = f"https://{livestack.host('mcp')}/mcp"
    completed = run_mcplint("probe", url, *FAST, *livestack.cli_args("healthy"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "FAIL" not in completed.stdout
    assert "[pass] Public DNS" in completed.stdout
    assert "[pass] Refresh errors" in completed.stdout
    assert "No step failed" in completed.stdout


def test_probe_never_passes_what_it_did_not_check(livestack: Stack) -> None:
    healthy = run_mcplint("probe", f"https://{livestack.host('mcp')}/mcp", *FAST,
                          *livestack.cli_args("healthy"))
    # MCP606 could not be judged: the step is not a pass, and says so
    assert "[ ?? ] Audience and resource  (not verified: see below)" in healthy.stdout
    assert "MCP606 not verified resource-rejected" in healthy.stdout
    # (and the protocol generation, behind the challenge, is part of the endpoint's step)
    assert ("(not verified: The MCP endpoint and its challenge, Audience and resource)."
            in healthy.stdout)
    scenario = livestack.scenario("redirect-cross-host")
    redirected = run_mcplint("probe", scenario.server_url, *FAST, *livestack.cli_args(scenario))
    assert redirected.returncode == 1
    assert ("[----] The MCP endpoint and its challenge  (not checked: the MCP URL redirects"
            in redirected.stdout)
    passed = re.findall(r"\[pass\] (.*)", redirected.stdout)
    assert passed == ["Public DNS", "Reachability and TLS"], redirected.stdout
    markdown = run_mcplint("probe", scenario.server_url, "--format", "markdown", *FAST,
                           *livestack.cli_args(scenario)).stdout
    assert markdown.startswith(f"## ❌ mcplint probe: 1 problem (1 error) in "
                               f"`{scenario.server_url}`\n"), markdown.splitlines()[0]


def test_probe_of_an_open_server(livestack: Stack) -> None:
    """probe infers the auth: an open server passes (the invalid-token probe, sent before
    the first contact's answer was known, is not judged), and one whose origin serves AS
    metadata fails at the endpoint with MCP110."""
    healthy = livestack.scenario("open-healthy")
    completed = run_mcplint("probe", healthy.server_url, *FAST, *livestack.cli_args(healthy))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No step failed" in completed.stdout
    advertising = livestack.scenario("open-as-metadata")
    completed = run_mcplint("probe", advertising.server_url, *FAST,
                            *livestack.cli_args(advertising))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "[FAIL] The MCP endpoint and its challenge" in completed.stdout
    assert "MCP110 error open-server-advertises-oauth" in completed.stdout
    assert "MCP604" not in completed.stdout


def test_probe_names_the_failing_step_and_the_symptom(livestack: Stack) -> None:
    scenario = livestack.scenario("redirect-cross-host")
    completed = run_mcplint("probe", scenario.server_url, *FAST, *livestack.cli_args(scenario))
    assert completed.returncode == 1
    assert "[FAIL] Redirects" in completed.stdout
    assert "MCP305 error redirect-cross-host" in completed.stdout
    assert "the user sees: \"Authorization with the MCP server failed\"" in completed.stdout


def test_probe_fails_the_step_where_discovery_stopped(livestack: Stack) -> None:
    """MCP416 (an HTML 200 at the AS metadata URL) fails the discovery step of the walk
    (results/order.py), and the probe, instead of "No step failed"."""
    scenario = livestack.scenario("as-html-200")
    completed = run_mcplint("probe", scenario.server_url, *FAST, *livestack.cli_args(scenario))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "[FAIL] Protected resource metadata" in completed.stdout
    assert "MCP416 error discovery-aborted" in completed.stdout
    assert "No step failed" not in completed.stdout
    assert "Users would see: \"Couldn't reach the MCP server\"" in completed.stdout


USER_LIVE_POLICY = """\
code: ACME100
name: mcp-answers-fast
severity: error
modes: [live]
symptom: reach
summary: Our MCP endpoints answer the first contact within a millisecond.
checks:
  - given: /live/requests/*
    when: this.step == 'mcp-post'
    expect: this.elapsed_ms < `1`
    message: "the first contact took {this.elapsed_ms} ms"
docs:
  what: Our own latency target.
  why: Our users are impatient.
  fix: Make it faster.
"""


def test_probe_fails_on_a_finding_of_no_step(livestack: Stack, tmp_path: Path) -> None:
    """A user's live policy belongs to no step of the walk: probe lists it under "Other
    findings", and an error there fails the probe (no "No step failed")."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "acme.yaml").write_text(USER_LIVE_POLICY)
    url = f"https://{livestack.host('mcp')}/mcp"
    completed = run_mcplint("probe", url, "--policies", str(tmp_path / "policies"), *FAST,
                            *livestack.cli_args("healthy"))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Other findings" in completed.stdout and "ACME100 error" in completed.stdout
    assert "No step failed" not in completed.stdout
    assert "Users would see: \"Couldn't reach the MCP server\"" in completed.stdout


def test_probe_json_locates_findings_at_the_url(livestack: Stack) -> None:
    scenario = livestack.scenario("as-no-s256")
    completed = run_mcplint("probe", scenario.server_url, "--format", "json", *FAST,
                            *livestack.cli_args(scenario))
    report = json.loads(completed.stdout)
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP505"]
    assert finding["file"] is None and finding["line"] is None
    assert finding["evidence"]["url"].startswith(f"https://{scenario.mcp_host}/.well-known/")


def test_init_from_url_writes_a_manifest_that_verifies(livestack: Stack, tmp_path: Path) -> None:
    url = f"https://{livestack.host('mcp')}/mcp"
    path = tmp_path / "mcp-connector.yaml"
    completed = run_mcplint("init", "--from", url, "-o", str(path), *FAST,
                            *livestack.cli_args("healthy"))
    assert completed.returncode == 0, completed.stderr
    manifest = yaml.safe_load(path.read_text())
    auth = f"https://{livestack.host(HEALTHY_AS)}"
    assert manifest["server"]["url"] == url
    assert manifest["auth"] == {"type": "oauth", "issuer": auth, "audience": url,
                                "registration": ["dcr"], "scopes": ["mcp:read", "mcp:write"]}
    assert set(manifest["hosts"]) == {livestack.host("mcp"), livestack.host(HEALTHY_AS)}
    assert "authorization_servers[0] of the protected resource metadata" in path.read_text()
    check = run_mcplint("check", str(path), "--format", "json")
    assert check.returncode == 0 and json.loads(check.stdout)["findings"] == []
    verified = run_mcplint("verify", str(path), "--format", "json", *FAST,
                           *livestack.cli_args("healthy"))
    assert verified.returncode == 0, verified.stdout
    assert all(f["severity"] == "info" for f in json.loads(verified.stdout)["findings"])


def test_init_from_an_unreachable_url_is_a_clean_error(livestack: Stack, tmp_path: Path) -> None:
    scenario = livestack.scenario("unreachable-refused")
    completed = run_mcplint("init", "--from", scenario.server_url, "-o",
                            str(tmp_path / "m.yaml"), *FAST, *livestack.cli_args(scenario))
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"mcplint: error: init --from: {scenario.server_url} did "
                                       "not answer (refused")
    assert not (tmp_path / "m.yaml").exists()


@pytest.mark.parametrize(("scenario", "finding"), [("endpoint-404", "MCP108 endpoint-not-mcp"),
                                                   ("redirect-cross-host",
                                                    "MCP305 redirect-cross-host")])
def test_init_from_refuses_what_is_no_mcp_endpoint(livestack: Stack, tmp_path: Path,
                                                   scenario: str, finding: str) -> None:
    """A typo answering 404, or a redirect to another host: exit 1, one line, no file."""
    server_url = livestack.scenario(scenario).server_url
    completed = run_mcplint("init", "--from", server_url, "-o", str(tmp_path / "m.yaml"),
                            *FAST, *livestack.cli_args(scenario))
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith(f"mcplint: init --from: {server_url}: {finding}: ")
    assert completed.stderr.count("\n") == 1 and "no file written" in completed.stderr
    assert not (tmp_path / "m.yaml").exists()


def test_init_from_refuses_plain_http(livestack: Stack, tmp_path: Path) -> None:
    url = f"http://{livestack.host('mcp')}/mcp"
    completed = run_mcplint("init", "--from", url, "-o", str(tmp_path / "m.yaml"), *FAST,
                            *livestack.cli_args("healthy"))
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith(f"mcplint: init --from: {url}: MCP101 url-not-https: ")
    assert completed.stderr.count("\n") == 1
    assert not (tmp_path / "m.yaml").exists()
    # the local profile accepts http on loopback (a server under development)
    local = f"http://127.0.0.1:{livestack.ports['mcp']}/mcp"
    allowed = run_mcplint("init", "--from", local, "--profile", "local", "-o",
                          str(tmp_path / "local.yaml"), *FAST, *livestack.cli_args("healthy"))
    assert "MCP101" not in allowed.stderr, allowed.stderr


def test_init_from_names_what_it_could_not_discover(livestack: Stack, tmp_path: Path) -> None:
    scenario = "prm-missing"
    path = tmp_path / "m.yaml"
    completed = run_mcplint("init", "--from", livestack.scenario(scenario).server_url, "-o",
                            str(path), *FAST, *livestack.cli_args(scenario))
    assert completed.returncode == 0, completed.stderr
    assert ("mcplint: init --from could not discover, so marked TODO: issuer (no protected "
            "resource metadata was found)") in completed.stderr
    text = path.read_text()
    assert re.search(r"^  issuer: .*# TODO", text, re.M), text
    todo_lines = [line for line in text.splitlines() if "# TODO" in line]
    named = completed.stderr.split("marked TODO: ", 1)[1]
    for line in todo_lines:  # every TODO in the file is named on stderr
        assert line.split(":")[0].strip() in named, (line, named)


# Live rules fired by the dedicated tests above rather than by a catalog scenario.
FIRED_BY_OTHER_TESTS = {"MCP206", "MCP411", "MCP412", "MCP413", "MCP504", "MCP508", "MCP509",
                        "MCP511", "MCP514", "MCP515", "MCP518", "MCP519"}


# Live rules registered ahead of their live checks (catalog 2's have all landed). Each must
# leave this list, for EXPECTED, when its live check lands (the test below fails then).
LIVE_CHECK_PENDING: set[str] = set()


def _reads_live(rule: object) -> bool:
    return any(check.reads_live for check in rule.checks)  # type: ignore[attr-defined]


def test_every_live_rule_fires_on_the_real_stack_somewhere() -> None:
    from mcplint.policy.catalog import load_builtin

    rules = load_builtin().rules
    live_rules = {code for code, r in rules.items() if "live" in r.modes}
    fired = set().union(*EXPECTED.values()) | FIRED_BY_OTHER_TESTS
    assert live_rules - LIVE_CHECK_PENDING <= fired, sorted(live_rules - LIVE_CHECK_PENDING - fired)
    assert LIVE_CHECK_PENDING <= live_rules
    landed = {code for code in LIVE_CHECK_PENDING if _reads_live(rules[code])}
    assert not landed, f"live checks landed for {sorted(landed)}: move them to EXPECTED"


def test_a_discovery_url_redirecting_to_http_is_mcp311(livestack: Stack, tmp_path: Path) -> None:
    """The PRM URL the challenge names answers 301 to plain http: MCP311 alone (not also
    MCP415 for the hint, nor MCP405 for the PRM never found)."""
    site = "prm-to-http"
    host = f"{site}.{livestack.catalog.custom_suffix}"
    prm_path = "/.well-known/oauth-protected-resource/mcp"
    livestack.static_site(site, {"/mcp": Proxy("mcp"),
                                 prm_path: Redirect(301, f"http://{host}{prm_path}")})
    issuer = f"https://{livestack.host(HEALTHY_AS)}"
    _, report, _ = verify(livestack, tmp_path, _site_manifest(livestack, host, issuer),
                          hosts=(host, livestack.host(HEALTHY_AS)))
    assert codes(report) == {"MCP311"}, report["findings"]
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP311"]
    assert finding["evidence"]["url"] == f"https://{host}{prm_path}"
    assert f"http://{host}{prm_path}" in finding["message"]


def test_an_html_error_page_on_the_401_is_not_mcp108(livestack: Stack, tmp_path: Path) -> None:
    """nginx's default 401 page, with the right challenge: a healthy OAuth server."""
    site = "html401"
    host = f"{site}.{livestack.catalog.custom_suffix}"
    challenge = f'Bearer resource_metadata="https://{host}/.well-known/oauth-protected-resource/mcp"'
    livestack.static_site(site, {
        "/mcp": Static.html(401, "<html><body><h1>401 Authorization Required</h1></body></html>",
                            (("WWW-Authenticate", challenge),)),
        "/.well-known/oauth-protected-resource/mcp": Proxy("mcp"),
    })
    issuer = f"https://{livestack.host(HEALTHY_AS)}"
    _, report, _ = verify(livestack, tmp_path, _site_manifest(livestack, host, issuer),
                          hosts=(host, livestack.host(HEALTHY_AS)))
    assert codes(report) == set(), report["findings"]


def _stack_examples() -> list[Any]:
    from mcplint.policy.files import read_policy

    cases = []
    for path in sorted((Path(__file__).resolve().parent.parent / "policies").glob("MCP*.yaml")):
        policy, docs = read_policy(path)
        scenario = docs["examples"].get("live-bad", {}).get("stack")
        if scenario:
            cases.append(pytest.param(policy["code"], scenario, id=policy["code"]))
    return cases


@pytest.mark.parametrize(("code", "scenario"), _stack_examples())
def test_policy_live_example_on_the_real_stack(livestack: Stack, tmp_path: Path, code: str,
                                               scenario: str) -> None:
    """A policy's live-bad example names the stack scenario it stands for: there, the rule
    fires, located at the manifest field the example marks."""
    _, report, _ = verify(livestack, tmp_path, livestack.manifest(scenario),
                          *EXTRA_ARGS.get(scenario, []), scenario=scenario)
    fired = [f for f in report["findings"] if f["code"] == code and f["source"] == "live"]
    assert fired, report["findings"]
    # the rule itself fired (a check that could not be verified is not that), located
    assert all(f["outcome"] != "not-verified" and f["line"] for f in fired), fired


@pytest.mark.parametrize(("scenario", "expected"), [
    ("generation-legacy-only", {"MCP109"}), ("generation-new-only", {"MCP109"})])
def test_generation_gap_under_the_spec_profile(livestack: Stack, tmp_path: Path, scenario: str,
                                               expected: set[str]) -> None:
    """MCP111 is claude-ai's: under --profile spec a legacy-only server is MCP109, whose
    message names the clients that fail."""
    _, report, _ = verify(livestack, tmp_path, livestack.manifest(scenario), "--profile", "spec",
                          scenario=scenario)
    assert codes(report) == expected, report["findings"]
    (finding,) = report["findings"]
    failing = ("the 2026-07-28 specification" if scenario == "generation-legacy-only"
               else "2025-11-25 and earlier")
    assert f"clients of {failing}" in finding["message"] and "fail" in finding["message"]


def test_no_prm_but_root_as_metadata_is_mcp405_under_the_spec_profile(
        livestack: Stack, tmp_path: Path) -> None:
    """MCP414 is claude-ai's (its legacy fallback): under --profile spec the same deployment
    has no protected resource metadata, MCP405, and MCP414 does not hide it."""
    scenario = "prm-missing-as-root"
    _, report, _ = verify(livestack, tmp_path, livestack.manifest(scenario), "--profile", "spec",
                          scenario=scenario)
    # (MCP518, advice outside claude-ai, is info: the AS offers DCR alone.)
    assert {f["code"] for f in report["findings"] if f["severity"] != "info"} == {"MCP405"}, \
        report["findings"]


def test_a_slow_token_endpoint_is_timed_twice(livestack: Stack, tmp_path: Path) -> None:
    """MCP605 is reported after the slow request was sent a second time and was slow again;
    the finding gives both times."""
    scenario, record = "token-slow", tmp_path / "record.json"
    _, report, _ = verify(livestack, tmp_path, livestack.manifest(scenario), "--timeout", "20",
                          "--record", str(record), scenario=scenario)
    requests = json.loads(record.read_text())["verifications"][0]["requests"]
    refreshes = [r for r in requests if r["step"] == "token-refresh"]
    assert len(refreshes) == 2 and all(r["elapsed_ms"] > 10_000 for r in refreshes), refreshes
    assert refreshes[1]["started_ms"] >= refreshes[0]["started_ms"] + refreshes[0]["elapsed_ms"]
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP605"]
    assert finding["severity"] == "error"
    assert re.search(r"took 1\d\.\d s, and 1\d\.\d s when sent again", finding["message"])


def test_an_answer_slow_once_is_not_mcp605() -> None:
    """Unit: a slow answer whose second timing is within the budget is not slow."""
    from mcplint.live.evidence import slow_facts
    from mcplint.live.net.http import Exchange

    def answer(ms: float) -> Exchange:
        return Exchange("1", "token-refresh", "POST", "https://a.example/token", "a.example",
                        "/manifest/auth/issuer", status=400, elapsed_ms=ms)

    budgets = {kind: {"value": 10} for kind in ("discovery", "registration", "token")}
    assert slow_facts([(answer(12_000), answer(300))], budgets) == []
    assert slow_facts([(answer(12_000), None)], budgets) == []
    (fact,) = slow_facts([(answer(12_000), answer(11_000))], budgets)
    assert (fact["seconds"], fact["seconds_again"]) == (12.0, 11.0)


def test_record_shows_both_first_contacts(livestack: Stack, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    verify(livestack, tmp_path, livestack.manifest("generation-new-only"), "--record",
           str(record), scenario="generation-new-only")
    requests = json.loads(record.read_text())["verifications"][0]["requests"]
    bodies = {r["step"]: json.loads(r["request"]["body"]) for r in requests
              if r["step"] in ("mcp-discover", "mcp-post")}
    assert bodies["mcp-discover"]["method"] == "server/discover"
    assert bodies["mcp-post"]["method"] == "initialize"
    answers = {r["step"]: r["response"]["status"] for r in requests
               if r["step"] in ("mcp-discover", "mcp-post")}
    assert answers == {"mcp-discover": 200, "mcp-post": 400}
    starts = sorted(r["started_ms"] for r in requests)
    ends = {r["step"]: r["started_ms"] + r["elapsed_ms"] for r in requests}
    assert starts[1] < min(ends.values())  # concurrent: the second went out before any answer
