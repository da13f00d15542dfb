// Self-contained HTML report renderer.
