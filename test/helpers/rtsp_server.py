"""A real RTSP server for camera tests: Debian's GStreamer RTSP server (GstRtspServer).

Serves a moving H.264 test pattern at rtsp://127.0.0.1:PORT/PATH over TCP and UDP, optionally
behind HTTP basic auth. Prints "READY <port>" on stdout once it listens; runs until killed.
Started by test/helpers/rtsp-server.ts with Debian's /usr/bin/python3 (the one that has gi).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--pattern", default="ball", help="videotestsrc pattern (ball, smpte, ...)")
    ap.add_argument("--brightness", type=float, default=0.0, help="videobalance brightness, -1..1 (negative: a night scene)")
    a = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer.new()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))

    factory = GstRtspServer.RTSPMediaFactory.new()
    # is-live paces the source like a camera; zerolatency + short GOP so a client decodes within
    # a second of connecting; config-interval=-1 repeats SPS/PPS with every keyframe.
    factory.set_launch(
        f"( videotestsrc is-live=true pattern={a.pattern} ! "
        f"video/x-raw,width={a.width},height={a.height},framerate={a.fps}/1 ! "
        f"videobalance brightness={a.brightness} ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={a.fps} ! "
        f"rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    # One pipeline per client, like a camera serving each viewer. A shared media is prepared for
    # the transport of its first client: a UDP client joining after a TCP one then gets a 500 on SETUP.
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)

    if a.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory(a.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{a.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    for s in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
