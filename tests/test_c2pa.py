"""provenance.c2pa: images signed in the test with a certificate chain made in the test."""

from __future__ import annotations

import datetime
import io

import pytest
from PIL import Image as PILImage

from conftest import encode
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance.c2pa import (
    Store,
    embedded_jumbf,
    remote_manifest_url,
    validation_of,
    verdict,
)
from telltales.example import make_example, picture
from telltales.findings import Status
from telltales.formats import jpeg
from telltales.image import load_image
from telltales.registry import get

c2pa = pytest.importorskip("c2pa")
x509 = pytest.importorskip("cryptography.x509")

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
CREATED_BY_AI = ("c2pa.created", "trainedAlgorithmicMedia")


def _name(cn: str):
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Telltales Test CA"),
        ]
    )


@pytest.fixture(scope="module")
def signer():
    """An ES256 end-entity certificate (digitalSignature, emailProtection) under a test root CA."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.UTC)
    usage = dict(
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Telltales Test Root"))
        .issuer_name(_name("Telltales Test Root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Image Generator"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private


def sign(signer, source: bytes, mime: str, *steps: tuple[str, str]) -> bytes:
    """Sign ``source`` with a manifest whose actions are ``(action, digital source type)`` steps."""
    chain, private = signer
    manifest = {
        "claim_generator_info": [{"name": "TestGen", "version": "1.0"}],
        "title": "picture",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": action,
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": {"name": "DreamMaker", "version": "2"},
                        }
                        for action, source_type in steps
                    ]
                },
            }
        ],
    }
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=private, ta_url=None)
    with c2pa.Signer.from_info(info) as s, c2pa.Builder(manifest) as builder:
        out = io.BytesIO()
        builder.sign(s, mime, io.BytesIO(source), out)
    return out.getvalue()


def run_with_manual(data: bytes):
    finding, manual = run_cue(get("provenance.c2pa"), Analysis(load_image(data)))
    assert finding.status != Status.ERROR, finding.reason
    return finding, manual


def run(data: bytes):
    return run_with_manual(data)[0]


def jpeg_bytes() -> bytes:
    return encode(picture(320, 240), "JPEG", quality=90)


@pytest.mark.parametrize(
    "fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_signed_ai_image_is_decisive_generated_evidence(signer, fmt, mime):
    data = sign(signer, encode(picture(320, 240), fmt), mime, CREATED_BY_AI)
    assert embedded_jumbf(data)
    f = run(data)
    assert f.status == Status.GENERATED
    assert f.decisive and f.strength == 1.0
    assert f.details["validation"] == "untrusted"  # verifies, but our test CA is on no trust list
    assert f.details["claim_generator"] == "TestGen 1.0"
    assert f.details["signer"]["common_name"] == "Test Image Generator"
    assert f.details["signer"]["issuer"] == "Telltales Test CA"
    assert f.details["actions"][0] == {
        "action": "c2pa.created",
        "digital_source_type": "trainedAlgorithmicMedia",
        "software_agent": "DreamMaker 2",
        "where": "this image",
    }
    assert "AI" in f.reason and "not on a trust list" in f.reason


def tamper_pixels(signed: bytes) -> bytes:
    """Change the picture after signing: new pixels, the signed manifest segments kept."""
    pil = PILImage.open(io.BytesIO(signed)).convert("RGB")
    pil.paste((255, 0, 0), (10, 10, 60, 60))
    edited = encode(pil, "JPEG", quality=90)
    app11 = b"".join(
        signed[s.offset : s.offset + 4 + len(s.payload)]
        for s in jpeg.segments(signed)
        if s.marker == 0xEB
    )
    assert app11
    return edited[:2] + app11 + edited[2:]


def test_pixels_changed_after_signing_is_invalid_and_not_decisive(signer):
    signed = sign(signer, jpeg_bytes(), "image/jpeg", CREATED_BY_AI)
    f = run(tamper_pixels(signed))
    assert f.status == Status.GENERATED
    assert f.details["validation"] == "invalid"
    assert not f.decisive
    assert f.strength < 1.0
    assert any("mismatch" in code for code in f.details["failures"])
    assert "changed after signing" in f.reason


def test_composite_with_ai_is_partial_evidence(signer):
    data = sign(
        signer,
        jpeg_bytes(),
        "image/jpeg",
        ("c2pa.created", "digitalCapture"),
        ("c2pa.edited", "compositeWithTrainedAlgorithmicMedia"),
    )
    f = run(data)
    assert f.status == Status.GENERATED
    assert not f.decisive
    assert 0.5 < f.strength < 1.0
    assert "in part" in f.reason


def test_camera_capture_is_real_evidence(signer):
    data = sign(signer, jpeg_bytes(), "image/jpeg", ("c2pa.created", "digitalCapture"))
    f = run(data)
    assert f.status == Status.REAL
    assert not f.decisive
    assert f.strength <= 0.6
    assert f.details["actions"][0]["digital_source_type"] == "digitalCapture"


def test_manifest_without_source_type_is_clear(signer):
    data = sign(signer, jpeg_bytes(), "image/jpeg", ("c2pa.created", "digitalCreation"))
    f = run(data)
    assert f.status == Status.CLEAR
    assert f.details["validation"] == "untrusted"


@pytest.mark.parametrize("kind", ["camera-jpeg", "plain-png", "sd-png"])
def test_files_without_manifest_are_not_applicable(kind):
    data = make_example(kind)
    assert not embedded_jumbf(data)
    f = run(data)
    assert f.status == Status.NOT_APPLICABLE
    assert "absence proves nothing" in f.reason


def test_remote_manifest_reference_is_found():
    xmp = b'<rdf:Description dcterms:provenance="https://example.org/manifest.c2pa"/>'
    assert remote_manifest_url(b"xx" + xmp + b"yy") == "https://example.org/manifest.c2pa"
    assert remote_manifest_url(b"no reference here") is None


@pytest.mark.parametrize("offset,expected", [(40, Status.NOT_APPLICABLE), (300, Status.GENERATED)])
def test_damaged_manifest_is_reported_never_decisive(signer, offset, expected):
    signed = sign(signer, jpeg_bytes(), "image/jpeg", CREATED_BY_AI)
    seg = next(s for s in jpeg.segments(signed) if s.marker == 0xEB)
    start = seg.offset + 4 + offset
    f, manual = run_with_manual(signed[:start] + bytes(200) + signed[start + 200 :])
    assert f.status == expected
    assert not f.decisive
    if expected == Status.NOT_APPLICABLE:  # the JUMBF headers are gone: unreadable
        assert "could not be read" in f.reason and f.details["error"]
        assert manual and "Content Credentials viewer" in manual[0].guidance
    else:  # an assertion's bytes changed: readable, but invalid
        assert f.details["validation"] == "invalid"
        assert f.strength < 1.0


def edit_of(signer, ingredient: bytes, relationship: str) -> bytes:
    """A second manifest, by an editor, that uses a signed AI image as an ingredient."""
    chain, private = signer
    manifest = {
        "claim_generator_info": [{"name": "PhotoEditor", "version": "9"}],
        "title": "edited",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["ing"]}},
                        {"action": "c2pa.color_adjustments"},
                    ]
                    if relationship == "parentOf"
                    else [
                        {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCreation"},
                        {"action": "c2pa.placed", "parameters": {"ingredientIds": ["ing"]}},
                    ]
                },
            }
        ],
    }
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=private, ta_url=None)
    with c2pa.Signer.from_info(info) as s, c2pa.Builder(manifest) as builder:
        builder.add_ingredient(
            {"title": "ai.jpg", "relationship": relationship, "label": "ing"},
            "image/jpeg",
            io.BytesIO(ingredient),
        )
        out = io.BytesIO()
        builder.sign(s, "image/jpeg", io.BytesIO(ingredient), out)
    return out.getvalue()


@pytest.mark.parametrize("relationship,decisive", [("parentOf", True), ("componentOf", False)])
def test_ai_ingredient_is_found_through_an_edit(signer, relationship, decisive):
    ai = sign(signer, jpeg_bytes(), "image/jpeg", CREATED_BY_AI)
    f = run(edit_of(signer, ai, relationship))
    assert f.status == Status.GENERATED
    assert f.decisive is decisive
    assert f.details["claim_generator"] == "PhotoEditor 9"
    ai_actions = [
        a for a in f.details["actions"] if a["digital_source_type"] == "trainedAlgorithmicMedia"
    ]
    assert ai_actions and relationship in ai_actions[0]["where"]
    if not decisive:
        assert "in part" in f.reason


@pytest.mark.parametrize(
    "state,failures,expected",
    [
        ("Trusted", (), "valid"),
        ("Valid", ("signingCredential.untrusted",), "untrusted"),
        ("Invalid", ("assertion.dataHash.mismatch",), "invalid"),
        (None, ("signingCredential.untrusted",), "untrusted"),
        (None, ("signingCredential.untrusted", "claimSignature.mismatch"), "invalid"),
        (None, (), "valid"),
    ],
)
def test_validation_states(state, failures, expected):
    assert validation_of(Store({}, None, state, failures)) == expected


def test_trusted_camera_manifest_is_moderate_real_evidence():
    manifest = {
        "claim_generator_info": [{"name": "Camera Firmware", "version": "1.2"}],
        "signature_info": {"issuer": "Camera Maker", "common_name": "Camera Maker Signer"},
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}
                    ]
                },
            }
        ],
    }
    f = verdict(Store({"urn:1": manifest}, "urn:1", "Trusted", ()))
    assert f.status == Status.REAL and f.strength == 0.6 and not f.decisive
    assert "trusted" in f.reason and "Camera Maker Signer" in f.reason
