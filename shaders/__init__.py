"""GLSL ES 3.00 templates the exporter renders; a package only so that they install with NCA Studio."""
