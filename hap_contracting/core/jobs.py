"""Asking for background work by task name.

Tasks are the worker's entry points and call the services, so a service cannot import them
(that would be a cycle). A service that must start work after its transaction commits names
the task instead. The task object itself is looked up, so an eager Celery (the demo, the tests)
runs it in process as before.
"""

from celery import Task, current_app


def _task(task_name: str) -> Task:
    if task_name not in current_app.tasks:
        # Outside a worker the apps' task modules are imported on first use (autodiscovery).
        current_app.loader.import_default_modules()
    return current_app.tasks[task_name]


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    _task(task_name).delay_on_commit(*args, **kwargs)


def enqueue_now(task_name: str, *args) -> None:
    """Queue the task at once, for work a page can also do itself: an unreachable broker raises
    kombu's ``OperationalError`` at once instead of holding the page. Neither the connection
    (kombu retries it until Celery's connect timeout, seconds) nor the publishing is retried."""
    task = _task(task_name)
    if current_app.conf.task_always_eager:
        task.apply_async(args)
        return
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=0)
        task.apply_async(args, connection=connection, retry=False)
