import logging
import socket

from celery import shared_task

from config.api.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@shared_task(name="config.api.tasks.worker_heartbeat")
def worker_heartbeat(token: str) -> None:
    logger.info("worker heartbeat %s", token)
    WorkerHeartbeat.objects.get_or_create(token=token, defaults={"hostname": socket.gethostname()})
