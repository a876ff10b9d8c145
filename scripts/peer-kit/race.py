"""N requests released at once (a barrier), each on its own connection.

    python3 race.py PORT PATH BODY [COOKIE] [N]

Prints "status:count ..." for the answers.
"""
import http.client
import sys
import threading
from collections import Counter

port, path, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
cookie = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
n = int(sys.argv[5]) if len(sys.argv) > 5 else 64
barrier = threading.Barrier(n)
statuses = Counter()
lock = threading.Lock()


def one():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    headers = {"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}
    if cookie:
        headers["Cookie"] = "id=" + cookie
    barrier.wait()
    try:
        conn.request("POST", path, body, headers)
        status = conn.getresponse().status
    except OSError:
        status = "error"
    with lock:
        statuses[status] += 1


workers = [threading.Thread(target=one) for _ in range(n)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(" ".join("%s:%d" % (s, c) for s, c in sorted(statuses.items(), key=str)))
