"""gunicorn settings for the web process: those packaged in ``service/gunicorn_conf.py``.

Run as ``gunicorn -c gunicorn.conf.py "service.app:create_app()"`` (the Procfile's ``web:``);
``archiver web`` runs the same process with the same settings.
"""

from service.gunicorn_conf import *  # noqa: F403
