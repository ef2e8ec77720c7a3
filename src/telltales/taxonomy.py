"""The failure taxonomy (Borji 2023, "Qualitative Failures of Image Generation Models").

Every cue id here is either implemented by a registered cue or listed in each
report as a manual check with the guidance below. The ids are stable names used
in code, JSON and reports.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: dict[str, str] = {
    "body": "Human and animal body parts",
    "geometry": "Geometry",
    "physics": "Physics",
    "semantics": "Semantics and logic",
    "text-noise-details": "Text, noise and details",
    "provenance": "Supplementary cues: metadata and provenance",
}

_PREFIX_TO_CATEGORY = {
    "body": "body",
    "geometry": "geometry",
    "physics": "physics",
    "semantics": "semantics",
    "text": "text-noise-details",
    "noise": "text-noise-details",
    "details": "text-noise-details",
    "provenance": "provenance",
}


def category_of(cue_id: str) -> str:
    """The category a cue id belongs to, from its prefix (``noise.spectrum`` -> text-noise-details)."""
    prefix = cue_id.split(".", 1)[0]
    try:
        return _PREFIX_TO_CATEGORY[prefix]
    except KeyError:
        raise ValueError(
            f"cue id {cue_id!r} must start with one of {sorted(_PREFIX_TO_CATEGORY)}"
        ) from None


@dataclass(frozen=True)
class Item:
    id: str
    failure: str
    guidance: str  # what a person should do when this is a manual check

    @property
    def category(self) -> str:
        return category_of(self.id)


ITEMS: tuple[Item, ...] = (
    # 1. body
    Item("body.hands", "extra, missing, fused or bent fingers; hands melting into objects",
         "Count the fingers on every hand and follow each finger to its knuckle; look for fused, "
         "doubled or boneless fingers and hands that merge into objects."),
    Item("body.pupils", "pupils not round or elliptic",
         "Zoom into each eye: pupils should be round (or a regular ellipse when seen at an angle) "
         "with a clean edge."),
    Item("body.eye-highlights", "specular highlights in the two corneas disagree",
         "Compare the small bright reflections in both eyes: with one light source they have the "
         "same shape and sit at the same place in each eye."),
    Item("body.eye-colour", "left and right iris of different colour or texture",
         "Compare the colour and pattern of the two irises."),
    Item("body.face-symmetry", "asymmetric earrings, glasses frames, ears, hairline",
         "Compare left and right: earrings should match, glasses frames should be symmetric, "
         "ears and hairline should be plausible."),
    Item("body.teeth", "too many, fused or smeared teeth",
         "Look at the teeth: count them, check they are separate and not smeared together."),
    Item("body.limbs", "extra, missing or impossibly bent limbs; bodies merging",
         "Follow every arm and leg to a body: count them, check the joints bend the right way, "
         "and that people do not merge into each other."),
    Item("body.skin-hair", "plastic, over-smooth skin; hair merging into the background",
         "Look at skin texture (pores, fine hair) and at the hair outline against the background."),
    Item("body.animals", "wrong number of legs, fused animal bodies",
         "If there are animals: count legs, ears, eyes and tails; check bodies do not merge."),
    # 2. geometry
    Item("geometry.vanishing-points", "parallel lines that do not meet in consistent vanishing points",
         "Extend parallel edges (building edges, floor tiles, tables): they should meet in a "
         "common vanishing point."),
    Item("geometry.straight-lines", "edges that should be straight wave or bend",
         "Follow long edges of buildings, door frames and tiles: they should be straight "
         "(or bend smoothly and consistently from lens distortion)."),
    Item("geometry.symmetry", "objects expected to be symmetric are not",
         "Check objects that should be symmetric (cars, glasses, buildings, furniture) for "
         "mismatched halves."),
    Item("geometry.impossible", "impossible structures, inconsistent occlusion, wrong scale",
         "Look for structures that cannot exist, objects passing through each other, and "
         "objects of impossible relative size."),
    # 3. physics
    Item("physics.lighting", "objects lit from different directions",
         "Check that faces and objects are lit from the same side as the rest of the scene."),
    Item("physics.shadows", "shadows missing or pointing the wrong way",
         "Check that objects standing in light cast shadows, and that all shadows point away "
         "from the same light."),
    Item("physics.reflections", "reflections that do not match the object",
         "Compare mirrors, water, windows and glasses with what they should reflect."),
    Item("physics.support", "floating objects, wrong gravity, impossible materials",
         "Check that objects rest on something and that materials behave as they should."),
    # 4. semantics
    Item("semantics.counting", "wrong counts of things with a fixed number",
         "Count things that have a fixed number: fingers, legs, wheels, clock numerals, "
         "piano keys in groups of two and three."),
    Item("semantics.function", "objects that cannot work",
         "Check objects work: bicycles have chains and pedals, clocks have 12 numerals in order, "
         "keyboards have real keys, chess boards have 8x8 squares."),
    Item("semantics.context", "objects in impossible places, relations that make no sense",
         "Ask whether every object belongs where it is and whether relations between objects "
         "make sense."),
    # 5. text, noise, details
    Item("text.gibberish", "letters that form no words, warped glyphs, inconsistent fonts",
         "Read every piece of text: signs, labels, book covers. Generated text often looks like "
         "writing but forms no words."),
    Item("noise.spectrum", "periodic spectral peaks from upsampling; abnormal spectral decay",
         "(needs software) A Fourier spectrum of the noise residual shows grid-like peaks."),
    Item("noise.residual", "missing camera sensor noise; unnatural local pixel correlations",
         "(needs software) Inspect the noise residual for sensor noise."),
    Item("noise.learned", "low-level traces a small trained detector recognises",
         "(needs software) A detector trained on generated and real images scores the pixels."),
    Item("noise.clip", "generator traces and style that a detector on pretrained image features "
         "(CLIP ViT-B/16, middle blocks) recognises",
         "(needs software) A detector on a pretrained image model's features scores the whole "
         "image and native-resolution crops; it says how likely, not what is wrong."),
    Item("noise.jpeg", "no camera-like JPEG history",
         "(needs software) Compare the JPEG quantisation tables with camera tables."),
    Item("details.texture", "smudged background, repeated textures, melted small objects",
         "Zoom into the background and small objects: look for smudges, repeated patches and "
         "objects that melt into each other."),
    Item("details.watermark", "garbled stock-photo watermarks or signatures",
         "Look in the corners and across the centre for watermarks or signatures that read as "
         "nothing or as a mangled stock-site name."),
    # supplementary: provenance
    Item("provenance.c2pa", "C2PA manifest that says the image was generated",
         "Open the file in a Content Credentials viewer and read who signed it."),
    Item("provenance.generator-metadata", "generator parameters stored in the file",
         "Read the file's metadata (PNG text, EXIF, XMP) for a generator's name or prompt."),
    Item("provenance.watermark", "invisible watermarks that generators embed",
         "(needs software) Decode the generators' invisible watermarks."),
    Item("provenance.visible-mark", "a generator's visible mark (DALL-E 2's colour strip, Gemini's sparkle, AI labels)",
         "Look at the corners for a generator's own mark: DALL-E 2's five coloured squares at the "
         "bottom right, Gemini's sparkle, 'Imagined with AI', 'AI生成' labels. A mark can be pasted "
         "or cropped away: it is evidence, not proof."),
    Item("provenance.camera", "camera EXIF and its consistency",
         "Read the camera metadata: make, model, lens, exposure. Metadata can be copied; treat it "
         "as weak evidence."),
)

BY_ID: dict[str, Item] = {item.id: item for item in ITEMS}

HARD_OBJECTS = (
    "hands", "text", "clocks", "bicycles", "keyboards and pianos", "chess boards", "crowds",
    "mirrors and reflections", "glasses", "jewellery", "animals' legs",
)
