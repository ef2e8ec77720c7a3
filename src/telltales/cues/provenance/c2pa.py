"""Content Credentials (C2PA): a signed statement, stored in the file, of how it was made.

Generators that take part in the C2PA scheme (OpenAI, Adobe Firefly, Google,
Microsoft...) sign a *manifest* into the image: who made it (claim generator,
signer), what was done (actions such as ``c2pa.created``, ``c2pa.edited``) and
where the content came from (an IPTC *digital source type*:
``trainedAlgorithmicMedia`` for AI output, ``digitalCapture`` for a camera).
Some cameras (Leica, Sony, Nikon) sign their photos the same way.

Three things are checked separately, because they mean different things:

* **valid**: the signature verifies and the certificate is on a trust list;
* **untrusted**: the signature verifies (the file is unchanged since signing),
  but the certificate is not on a trust list telltales knows. telltales ships
  no trust list, so commercial signers show up here too. This is *not* invalid;
* **invalid**: a hash or the signature does not match: the file was changed
  after it was signed, so the manifest no longer vouches for these pixels.

Most images carry no manifest at all (social networks strip it), so absence
proves nothing and the cue then says not-applicable.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Result
from telltales.formats import jpeg, png
from telltales.registry import cue

CUE_ID = "provenance.c2pa"

NO_MANIFEST = (
    "no Content Credentials (C2PA) in the file; most images have none, absence proves nothing"
)

# Pillow format name -> MIME type understood by c2pa.Reader
MIME_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
    "HEIF": "image/heif",
    "HEIC": "image/heic",
    "GIF": "image/gif",
    "JXL": "image/jxl",
}

# IPTC digital source types (http://cv.iptc.org/newscodes/digitalsourcetype/...)
AI_MADE = frozenset({"trainedAlgorithmicMedia"})
AI_IN_PART = frozenset({"compositeWithTrainedAlgorithmicMedia"})
CAPTURED = frozenset({"digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm"})
PLAIN_WORDS = {
    "trainedAlgorithmicMedia": "made by a trained AI model",
    "compositeWithTrainedAlgorithmicMedia": "a composite that includes AI-generated parts",
    "algorithmicMedia": "made by an algorithm that does not learn from data",
    "digitalCapture": "captured by a digital camera",
    "computationalCapture": "captured by a camera with computational processing",
    "negativeFilm": "scanned from a film negative",
    "positiveFilm": "scanned from a film positive",
    "digitalCreation": "drawn or made digitally by a person",
    "compositeCapture": "a composite of captured images",
    "compositeSynthetic": "a composite that includes synthetic parts",
    "algorithmicallyEnhanced": "a capture enhanced by an algorithm",
    "humanEdits": "edited by a person",
    "minorHumanEdits": "lightly edited by a person",
    "screenCapture": "a screenshot",
}

# strengths: what each kind of manifest is worth as evidence
STRENGTH_AI_VERIFIED = 1.0
STRENGTH_AI_PART_VERIFIED = 0.8
STRENGTH_AI_BROKEN = 0.5  # the claim is there, the file was changed after signing
STRENGTH_AI_PART_BROKEN = 0.35
STRENGTH_CAPTURE_TRUSTED = 0.6
STRENGTH_CAPTURE_UNTRUSTED = 0.3  # anyone can make a certificate and claim a camera


# 1. Is there an embedded manifest at all? (cheap, no parsing library) ---------------


def embedded_jumbf(data: bytes) -> bool:
    """Whether the bytes hold a C2PA JUMBF box where the format keeps it (APP11, caBX, or anywhere)."""
    if jpeg.is_jpeg(data):
        return any(
            s.marker == 0xEB and (b"jumb" in s.payload[:64] or b"c2pa" in s.payload[:128])
            for s in jpeg.segments(data)
        )
    if png.is_png(data):
        return any(c.type == "caBX" for c in png.chunks(data))
    return b"c2pa" in data or b"jumb" in data or b"C2PA" in data


def remote_manifest_url(data: bytes) -> str | None:
    """A manifest stored online, referenced from XMP (``dcterms:provenance``)."""
    i = data.find(b"dcterms:provenance")
    if i < 0:
        return None
    chunk = data[i : i + 600].decode("utf-8", "replace")
    for q in ('="', ">"):
        j = chunk.find(q)
        if j >= 0:
            rest = chunk[j + len(q) :]
            end = min((k for k in (rest.find('"'), rest.find("<")) if k >= 0), default=-1)
            url = rest[:end].strip() if end >= 0 else ""
            if url.startswith("http"):
                return url
    return None


# 2. Read the manifest store (c2pa-python, offline) ----------------------------------


@dataclass(frozen=True)
class Store:
    """What the reader returned: the manifest store and its validation."""

    manifests: dict[str, Any]
    active: str | None
    state: str | None  # "Trusted" / "Valid" / "Invalid" as the SDK says
    failures: tuple[str, ...]  # failure codes on the active manifest


class NoManifest(Exception):
    """The file has no readable C2PA manifest store."""


def read_store(data: bytes, mime: str | None) -> Store:
    """Read and validate the manifest store, never touching the network."""
    import c2pa  # heavy native library: imported only when a manifest is present

    settings = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    try:  # needs c2pa-python >= 0.38 (Context, get_validation_state)
        with (
            c2pa.Context.from_dict(settings) as ctx,
            c2pa.Reader(mime or "", io.BytesIO(data), context=ctx) as reader,
        ):
            store = json.loads(reader.json())
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        raise NoManifest(str(exc)) from None
    failures = tuple(
        str(f.get("code", ""))
        for f in (results.get("activeManifest") or {}).get("failure", [])
        if isinstance(f, dict)
    )
    if not results:  # older stores: a flat validation_status list
        failures = tuple(str(f.get("code", "")) for f in store.get("validation_status") or [])
    return Store(
        manifests=store.get("manifests") or {},
        active=store.get("active_manifest"),
        state=state or store.get("validation_state"),
        failures=failures,
    )


def validation_of(store: Store) -> str:
    """'valid' (trusted), 'untrusted' (verifies, signer not on a trust list) or 'invalid'."""
    state = (store.state or "").lower()
    if state == "trusted":
        return "valid"
    if state == "valid":
        return "untrusted"
    if state == "invalid":
        return "invalid"
    real_failures = [c for c in store.failures if c != "signingCredential.untrusted"]
    if real_failures:
        return "invalid"
    return "untrusted" if store.failures else "valid"


# 3. What does the manifest say? -------------------------------------------------------


@dataclass(frozen=True)
class Action:
    action: str
    source_type: str | None  # short IPTC name, e.g. "trainedAlgorithmicMedia"
    software: str | None
    where: str  # "this image" or "ingredient '<title>' (parentOf)"
    via_parent: bool  # in the active manifest or its parent chain


def short_source_type(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    return uri.rstrip("/").rsplit("/", 1)[-1]


def software_name(agent: Any) -> str | None:
    if isinstance(agent, str):
        return agent or None
    if isinstance(agent, dict) and agent.get("name"):
        version = agent.get("version")
        return f"{agent['name']} {version}" if version else str(agent["name"])
    return None


def claim_generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list):
        names = [software_name(i) for i in infos if isinstance(i, dict)]
        names = [n for n in names if n]
        if names:
            return ", ".join(names)
    gen = manifest.get("claim_generator")
    return str(gen) if gen else None


def actions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            data = assertion.get("data") or {}
            out.extend(a for a in data.get("actions") or [] if isinstance(a, dict))
    return out


def collect_actions(
    manifests: dict[str, Any], label: str | None, where: str, via_parent: bool, seen: set[str]
) -> list[Action]:
    """Actions of one manifest and, recursively, of its ingredients' manifests."""
    if not label or label in seen or label not in manifests:
        return []
    seen.add(label)
    m = manifests[label]
    found = [
        Action(
            action=str(a.get("action", "")),
            source_type=short_source_type(a.get("digitalSourceType")),
            software=software_name(a.get("softwareAgent")),
            where=where,
            via_parent=via_parent,
        )
        for a in actions_of(m)
    ]
    for ing in m.get("ingredients") or []:
        if not isinstance(ing, dict):
            continue
        rel = str(ing.get("relationship", "componentOf"))
        title = str(ing.get("title", "untitled"))
        found += collect_actions(
            manifests,
            ing.get("active_manifest"),
            f"ingredient '{title}' ({rel})",
            via_parent and rel == "parentOf",
            seen,
        )
    return found


def signer_of(manifest: dict[str, Any]) -> dict[str, Any]:
    sig = manifest.get("signature_info") or {}
    return {k: sig[k] for k in ("issuer", "common_name", "alg", "time") if sig.get(k)}


# 4. The verdict ------------------------------------------------------------------------


def describe_signer(signer: dict[str, Any]) -> str:
    who = signer.get("common_name") or signer.get("issuer") or "an unnamed signer"
    if signer.get("issuer") and signer.get("issuer") != who:
        who += f", issued by {signer['issuer']}"
    return who


def trust_sentence(validation: str, signer: dict[str, Any]) -> str:
    who = describe_signer(signer)
    if validation == "valid":
        return f"The signature is valid and the certificate ({who}) is trusted."
    if validation == "untrusted":
        return (
            f"The signature checks out, so the file is unchanged since signing; the certificate "
            f"({who}) is not on a trust list telltales knows, so who signed it is unconfirmed."
        )
    return (
        "But the file was changed after signing (a hash or the signature no longer matches), so "
        "this is an unverified claim, not proof."
    )


def summarise(actions: list[Action]) -> str:
    parts = []
    for act in actions[:3]:
        bits = [act.action.removeprefix("c2pa.") or "action"]
        if act.software:
            bits.append(f"by {act.software}")
        if act.source_type:
            bits.append(PLAIN_WORDS.get(act.source_type, act.source_type))
        if act.where != "this image":
            bits.append(f"in {act.where}")
        parts.append(", ".join(bits))
    return "; ".join(parts)


def verdict(store: Store) -> Result:
    active = store.manifests.get(store.active or "", {})
    validation = validation_of(store)
    actions = collect_actions(store.manifests, store.active, "this image", True, set())
    signer = signer_of(active)
    details = {
        "validation": validation,
        "validation_state": store.state,
        "failures": list(store.failures),
        "claim_generator": claim_generator(active),
        "title": active.get("title"),
        "format": active.get("format"),
        "signer": signer,
        "actions": [
            {
                "action": a.action,
                "digital_source_type": a.source_type,
                "software_agent": a.software,
                "where": a.where,
            }
            for a in actions
        ],
        "manifests": len(store.manifests),
    }
    verified = validation in ("valid", "untrusted")
    generator = details["claim_generator"] or "unnamed software"
    made_by_ai = [a for a in actions if a.source_type in AI_MADE and a.via_parent]
    ai_in_part = [
        a
        for a in actions
        if a.source_type in AI_IN_PART or (a.source_type in AI_MADE and not a.via_parent)
    ]
    trust = trust_sentence(validation, signer)
    if made_by_ai:
        return Result.generated(
            STRENGTH_AI_VERIFIED if verified else STRENGTH_AI_BROKEN,
            f"Content Credentials (C2PA) written by {generator} say this image was made by an AI "
            f"generator ({summarise(made_by_ai)}). {trust}",
            details=details,
            decisive=verified,
        )
    if ai_in_part:
        return Result.generated(
            STRENGTH_AI_PART_VERIFIED if verified else STRENGTH_AI_PART_BROKEN,
            f"Content Credentials (C2PA) written by {generator} say AI was used in part of this "
            f"image ({summarise(ai_in_part)}). {trust}",
            details=details,
        )
    captured = [a for a in actions if a.source_type in CAPTURED]
    if captured and verified:
        strength = STRENGTH_CAPTURE_TRUSTED if validation == "valid" else STRENGTH_CAPTURE_UNTRUSTED
        return Result.real(
            strength,
            f"Content Credentials (C2PA) written by {generator} say this image was "
            f"{PLAIN_WORDS[captured[0].source_type or 'digitalCapture']} ({summarise(captured)}). "
            f"{trust}",
            details=details,
        )
    said = summarise(actions) or "no actions recorded"
    return Result.clear(
        f"Content Credentials (C2PA) from {generator} are present but do not say the image was "
        f"AI-generated or camera-captured ({said}). {trust}",
        details=details,
    )


@cue(CUE_ID, needs=("raw",), version="1")
def content_credentials(a: Analysis) -> Result:
    """Signed Content Credentials (C2PA) that say how the image was made."""
    data: bytes = a.raw
    fmt = a.image.format
    if not data:
        return Result.not_applicable(
            "no file bytes to read Content Credentials from (image given as pixels)"
        )
    if not embedded_jumbf(data):
        url = remote_manifest_url(data)
        if url:
            return Result.not_applicable(
                "the file points to Content Credentials stored online, which telltales does not fetch",
                details={"remote_manifest": url},
                manual=(
                    ManualCheck(CUE_ID, f"Open {url} or the file in a Content Credentials viewer."),
                ),
            )
        return Result.not_applicable(NO_MANIFEST)
    try:
        store = read_store(data, MIME_TYPES.get(fmt.upper()))
    except NoManifest as exc:
        msg = str(exc)
        if "ManifestNotFound" in msg or "no JUMBF" in msg:
            return Result.not_applicable(NO_MANIFEST)
        return Result.not_applicable(
            "the file holds Content Credentials (C2PA) data that could not be read",
            details={"error": msg[:300]},
            manual=(
                ManualCheck(
                    CUE_ID,
                    "Open the file in a Content Credentials viewer (contentcredentials.org/verify).",
                ),
            ),
        )
    if not store.manifests:
        return Result.not_applicable(NO_MANIFEST)
    return verdict(store)
