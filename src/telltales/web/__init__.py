"""The reviewer's web app: upload images, see the evidence on the picture, work through
the manual checklist and keep each case.

``telltales serve`` starts it (uvicorn); :func:`telltales.web.app.create_app` builds the
FastAPI application for a :class:`telltales.web.settings.Settings`. FastAPI, SQLAlchemy and
the rest are imported only when the app is built (``pip install 'telltales[serve]'``).
"""
