"""Asking for background work by task name.

Tasks are the worker's entry points and call the services, so a service cannot import them
(that would be a cycle). A service that must start work after its transaction commits names
the task instead. The task object itself is looked up, so an eager Celery (the demo, the tests)
runs it in process as before.
"""

from celery import current_app


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    if task_name not in current_app.tasks:
        # Outside a worker the apps' task modules are imported on first use (autodiscovery).
        current_app.loader.import_default_modules()
    current_app.tasks[task_name].delay_on_commit(*args, **kwargs)
