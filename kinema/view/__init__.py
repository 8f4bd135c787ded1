"""``kinema view``: a local web app to look at what kinema makes and to steer a video's
latent map.

:mod:`.catalog` turns the files named on the command line into items with ids (videos,
compared pairs; :mod:`.items`: snapshots and vsae models, which run networks);
:mod:`.jobs` runs long work one job at a time with progress; :mod:`.server` is the page
and the JSON API (Starlette), and guards them; ``static/`` holds the page itself (plain
HTML, CSS and JavaScript, nothing loaded from elsewhere). docs/view.md documents the API.
"""
