"""Small files shipped with telltales: the fusion model and packaged detectors."""
