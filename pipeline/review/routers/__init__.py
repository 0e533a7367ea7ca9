"""The review app's routes, one router per resource; :func:`pipeline.review.app.create_app`
includes them in :data:`ROUTERS` order."""
