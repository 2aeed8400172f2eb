"""Drill client, run on a lab host: publishes to and consumes from RabbitMQ (py-amqp).

amqp_client.py HOST USER PASSWORD VHOST declare QUEUE...     declare non-durable queues
amqp_client.py HOST USER PASSWORD VHOST durable QUEUE...     declare durable queues
amqp_client.py HOST USER PASSWORD VHOST publish QUEUE BODY   publish (confirmed by the broker)
amqp_client.py HOST USER PASSWORD VHOST get QUEUE            print one message body, or
                                                             exit 3 when the queue is empty
"""

import sys

import amqp


def main():
    host, user, password, vhost, action, *rest = sys.argv[1:]
    conn = amqp.Connection(
        host=f"{host}:5672", userid=user, password=password, virtual_host=vhost, connect_timeout=5
    )
    conn.connect()
    channel = conn.channel()
    if action in ("declare", "durable"):
        for queue in rest:
            channel.queue_declare(queue, durable=action == "durable", auto_delete=False)
    elif action == "publish":
        queue, body = rest
        channel.confirm_select()
        channel.basic_publish(amqp.Message(body, delivery_mode=2), exchange="", routing_key=queue)
    elif action == "get":
        (queue,) = rest
        message = channel.basic_get(queue, no_ack=True)
        if message is None:
            conn.close()
            sys.exit(3)
        print(message.body if isinstance(message.body, str) else message.body.decode())
    else:
        sys.exit(f"unknown action {action}")
    conn.close()


if __name__ == "__main__":
    main()
