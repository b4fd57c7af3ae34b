"""Attacks a web page could make on a studio on loopback, against the real server (uvicorn on
127.0.0.1): DNS rebinding (a foreign Host), cross-origin writes, a missing token; the page's own
requests and plain scripts keep working."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.test_e2e.serve import running_server
from tests.test_web.conftest import png_bytes, studio_client
from tests.test_web.helpers import make_bundle
from web.cli import choose_token
from web.security import allowed_hosts, split_host

pytestmark = pytest.mark.slow

FOREIGN_HOSTS = ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example",
                 "[::2]", "", "10.0.0.1"]
FOREIGN_ORIGINS = ["http://evil.example:8000", "null", "http://127.0.0.1:1", "https://127.0.0.1",
                   "http://localhost.evil.example"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("secure")
    make_bundle(root / "bundled", "amber")
    with running_server(root, root / "bundled") as (url, _proc):
        yield url, root


def trained_model(root, model_id: str = "0" * 32) -> str:
    """A model in the data directory, as a finished job leaves it (deletable)."""
    target = root / "data" / "models" / model_id
    if not target.exists():
        shutil.copytree(root / "bundled" / "amber", target)
    return model_id


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
@pytest.mark.parametrize("method,path", [("GET", "/api/jobs"), ("GET", "/api/models"), ("GET", "/"),
                                         ("GET", "/bundles/amber/checkpoint.pt"), ("DELETE", "/api/models/{id}")])
def test_a_foreign_host_gets_no_data(server, host, method, path):
    url, root = server
    model_id = trained_model(root)
    r = httpx.request(method, url + path.format(id=model_id), headers={"Host": host})
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("this server does not answer to that Host name")
    assert set(r.json()) == {"detail"} and b"amber" not in r.content  # an error, and no data
    assert (root / "data" / "models" / model_id / "model.json").is_file()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_names_are_served(server, host):
    url, _ = server
    port = url.rsplit(":", 1)[1]
    r = httpx.get(url + "/api/models", headers={"Host": f"{host}:{port}"})
    assert r.status_code == 200 and any(m["id"] == "amber" for m in r.json())


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_cross_origin_writes_are_refused(server, origin):
    url, root = server
    model_id = trained_model(root)
    before = httpx.get(url + "/api/jobs").json()
    upload = httpx.post(url + "/api/jobs", headers={"Origin": origin},
                        files={"image": ("s.png", png_bytes((64, 64)), "image/png")}, data={"preset": "tiny"})
    delete = httpx.delete(f"{url}/api/models/{model_id}", headers={"Origin": origin})
    assert upload.status_code == 403 and delete.status_code == 403
    assert "cross-origin" in upload.json()["detail"]
    assert httpx.get(url + "/api/jobs").json() == before
    assert httpx.get(f"{url}/api/models/{model_id}").status_code == 200


def test_a_no_cors_form_post_with_only_fetch_metadata_is_refused(server):
    url, _ = server
    r = httpx.post(url + "/api/jobs/" + "0" * 32 + "/cancel", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_the_page_and_scripts_still_write(server):
    """Same-origin requests (what the studio page sends) and requests without Origin (curl) work."""
    url, root = server
    model_id = trained_model(root, "1" * 32)
    page_origin = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    assert httpx.delete(f"{url}/api/models/{model_id}", headers=page_origin).status_code == 204
    model_id = trained_model(root, "2" * 32)
    assert httpx.delete(f"{url}/api/models/{model_id}").status_code == 204
    # A bad upload from the page reaches the route (415), so the write path itself is open to it.
    r = httpx.post(url + "/api/jobs", headers=page_origin, files={"image": ("x.png", b"not an image", "image/png")})
    assert r.status_code == 415


def test_a_token_server_wants_its_token(tmp_path):
    make_bundle(tmp_path / "bundled", "amber")
    token = "s3cret-token"
    auth = {"Authorization": f"token {token}"}
    with running_server(tmp_path, tmp_path / "bundled", "--token", token, headers=auth) as (url, _proc):
        for path in ("/", "/api/models", "/bundles/amber/model.json", "/openapi.json"):
            r = httpx.get(url + path)
            assert r.status_code == 401 and "token" in r.json()["detail"], path
        assert httpx.get(url + "/api/models", headers={"Authorization": "token wrong"}).status_code == 401
        assert httpx.get(url + "/api/models?token=wrong").status_code == 401
        assert httpx.get(url + "/api/models", headers=auth).status_code == 200
        assert httpx.get(url + "/api/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        # The printed URL carries the token once; the page then lives on its cookie.
        first = httpx.get(f"{url}/?token={token}")
        assert first.status_code == 200 and "SameSite=Strict" in first.headers["set-cookie"]
        cookies = {"nca_studio_token": first.cookies["nca_studio_token"]}
        assert httpx.get(url + "/api/models", cookies=cookies).status_code == 200
        assert httpx.get(url + "/static/js/gl.js").status_code == 200  # nothing private in the modules
        r = httpx.post(url + "/api/jobs", files={"image": ("s.png", png_bytes(), "image/png")})
        assert r.status_code == 401


def test_a_token_is_required_beyond_loopback():
    assert choose_token("127.0.0.1", None) is None
    assert choose_token("localhost", None) is None
    assert choose_token("::1", None) is None
    generated = choose_token("0.0.0.0", None)
    assert generated and len(generated) >= 32 and generated != choose_token("0.0.0.0", None)
    assert choose_token("192.168.1.20", "mine") == "mine"
    assert choose_token("127.0.0.1", "mine") == "mine"


def test_allowed_hosts():
    hosts = allowed_hosts("192.168.1.20", ["studio.lan:443", "Proxy.Example"])
    assert {"localhost", "127.0.0.1", "::1", "192.168.1.20", "studio.lan", "proxy.example"} <= hosts
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0")
    assert split_host("[::1]:8000") == "::1" and split_host("LOCALHOST:80") == "localhost"


def test_allow_host_admits_a_proxy_name(settings):
    import dataclasses

    with studio_client(dataclasses.replace(settings, allow_hosts=("studio.lan",))) as c:
        assert c.get("/api/models", headers={"Host": "studio.lan"}).status_code == 200
        assert c.get("/api/models", headers={"Host": "other.lan"}).status_code == 400
