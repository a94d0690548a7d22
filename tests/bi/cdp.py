"""A small Chrome DevTools Protocol client over a pipe, for headless Chromium (Debian's).

Chromium started with --remote-debugging-pipe reads protocol messages on its fd 3 and writes
them on fd 4, each a JSON object ended by a NUL byte. No driver binary to match to the browser
version, no port to open and no package to install: the protocol is the browser's own. The
network stays as in the other browser tests (tests/python/browser.py): Chromium's net log
records every request it starts, and any host but loopback resolves to nothing.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

from browser import chromium_binary


class ProtocolError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page, driven through the DevTools protocol."""

    def __init__(self, work: Path, net_log: Path, width: int = 1600, height: int = 2400):
        work.mkdir(parents=True, exist_ok=True)
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def use_pipes() -> None:
            # In the child: the pipe ends on fds 3 and 4, inheritable. Moved out of the way
            # first, as os.pipe() may itself have returned 3 or 4 (close-on-exec).
            read_end = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [
                chromium_binary(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=MediaRouter,OptimizationHints,Translate",
                # Every host but loopback resolves to nothing, and a proxy on a closed loopback
                # port takes anything else: a request off the machine is attempted (and
                # logged) but cannot leave.
                "--proxy-server=http://127.0.0.1:9",
                "--proxy-bypass-list=127.0.0.1",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--log-net-log={net_log}",
                f"--user-data-dir={work / 'profile'}",
                f"--window-size={width},{height}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            preexec_fn=use_pipes,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "chromium.log", "w"),  # noqa: SIM115 (closed with the process)
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._next_id = 0
        self._responses: dict[int, queue.Queue] = {}
        self.events: list[dict] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime"):
            self.page(f"{domain}.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiting = self._responses.get(message["id"])
                    if waiting is not None:
                        waiting.put(message)
                else:
                    with self._lock:
                        self.events.append(message)

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params):
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            waiting: queue.Queue = queue.Queue()
            self._responses[message_id] = waiting
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            response = waiting.get(timeout=timeout)
        except queue.Empty:
            raise ProtocolError(f"{method}: no answer in {timeout} s") from None
        finally:
            with self._lock:
                del self._responses[message_id]
        if "error" in response:
            raise ProtocolError(f"{method}: {response['error']}")
        return response["result"]

    def page(self, method: str, **params):
        return self.call(method, session=self.session, **params)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        result = self.page(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise ProtocolError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90, what: str = "") -> object:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except ProtocolError:  # e.g. the page is navigating
                value = None
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"waited {timeout} s for {what or expression}")

    def navigate(self, url: str, timeout: float = 90) -> None:
        self.page("Page.navigate", url=url)
        self.wait_for(
            f"location.href.startsWith({json.dumps(url.split('#')[0])}) "
            "&& document.readyState === 'complete'",
            timeout,
            f"{url} to load",
        )

    def type_into(self, selector: str, text: str) -> None:
        """Focus a field and type into it as a user would (keyboard input events)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.page("Input.insertText", text=text)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.page(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )

    def responses(self, url_part: str) -> list[dict]:
        """Finished responses whose URL contains url_part: request body, status and body."""
        with self._lock:
            events = list(self.events)
        requests = {
            e["params"]["requestId"]: e["params"]["request"]
            for e in events
            if e.get("method") == "Network.requestWillBeSent"
            and url_part in e["params"]["request"]["url"]
        }
        statuses = {
            e["params"]["requestId"]: e["params"]["response"]["status"]
            for e in events
            if e.get("method") == "Network.responseReceived"
            and e["params"]["requestId"] in requests
        }
        finished = [
            e["params"]["requestId"]
            for e in events
            if e.get("method") == "Network.loadingFinished" and e["params"]["requestId"] in requests
        ]
        out = []
        for request_id in finished:
            body = self.page("Network.getResponseBody", requestId=request_id)
            text = (
                base64.b64decode(body["body"]).decode() if body["base64Encoded"] else body["body"]
            )
            out.append(
                {
                    "url": requests[request_id]["url"],
                    "request": requests[request_id].get("postData"),
                    "status": statuses.get(request_id),
                    "body": text,
                }
            )
        return out

    def clear_events(self) -> None:
        with self._lock:
            self.events.clear()

    def screenshot(self, path: Path) -> None:
        shot = self.page("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """Close the browser (it writes the end of its net log) and wait for it."""
        with contextlib.suppress(ProtocolError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._reader.join(timeout=5)
        os.close(self._from_browser)
