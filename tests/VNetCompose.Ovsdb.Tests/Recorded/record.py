#!/usr/bin/env python3
"""Records real ovsdb-server replies as test data for the OVSDB client's unit tests.

Run once against a throwaway server (never the machine's own), e.g.:
  ovsdb-tool create /tmp/r/conf.db /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server /tmp/r/conf.db --remote=punix:/tmp/r/db.sock --pidfile=/tmp/r/pid --unixctl=/tmp/r/ctl --detach
  ovs-vsctl --db=unix:/tmp/r/db.sock --no-wait init
  python3 record.py /tmp/r/db.sock .
Each NAME.json holds {"request": ..., "reply": ..., "notifications": [...]} exactly as exchanged
(the reply's text is kept verbatim in "reply_text" too). Only the standard library is used.
"""
import json, socket, sys

sock_path, out_dir = sys.argv[1], sys.argv[2]

class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock_path)
        self.buf = b""
        self.dec = json.JSONDecoder()
        self.next_id = 1

    def read_message(self):
        while True:
            text = self.buf.decode().lstrip()
            if text:
                try:
                    obj, end = self.dec.raw_decode(text)
                    self.buf = text[end:].encode()
                    return obj, text[:end]
                except json.JSONDecodeError:
                    pass
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk

    def call(self, method, params, notifications=None):
        req = {"method": method, "params": params, "id": self.next_id}
        self.next_id += 1
        self.s.sendall(json.dumps(req).encode())
        while True:
            msg, text = self.read_message()
            if msg.get("id") == req["id"] and "method" not in msg:
                return req, msg, text
            if notifications is not None:
                notifications.append(msg)

def save(name, req, reply, text, notifications=()):
    with open(f"{out_dir}/{name}.json", "w") as f:
        json.dump({"request": req, "reply": reply, "reply_text": text, "notifications": list(notifications)}, f, indent=1)
        f.write("\n")

c = Conn()
DB = "Open_vSwitch"
save("list-dbs", *c.call("list_dbs", []))
save("echo", *c.call("echo", ["ping", 1]))
req, rep, text = c.call("transact", [DB, {"op": "select", "table": "Open_vSwitch", "where": [],
    "columns": ["_uuid", "bridges", "cur_cfg", "next_cfg", "ovs_version", "datapath_types"]}])
save("select-root", req, rep, text)
root = rep["result"][0]["rows"][0]["_uuid"]
where_root = [["_uuid", "==", root]]
owner = ["map", [["vnet-instance", "rec"]]]

# Monitor on a second connection first, so the bridge insert below arrives as an "update" notification.
mon = Conn()
mreq, mrep, mtext = mon.call("monitor", [DB, "vnet", {
    "Bridge": {"columns": ["name", "ports", "external_ids"]},
    "Open_vSwitch": {"columns": ["cur_cfg", "next_cfg"]}}])

insert = [DB,
    {"op": "wait", "table": "Bridge", "where": [["name", "==", "rec0"]], "columns": ["name"], "until": "==", "rows": [], "timeout": 0},
    {"op": "insert", "table": "Interface", "uuid-name": "i_rec0", "row": {"name": "rec0", "type": "internal", "external_ids": owner}},
    {"op": "insert", "table": "Port", "uuid-name": "p_rec0", "row": {"name": "rec0", "interfaces": ["named-uuid", "i_rec0"], "external_ids": owner}},
    {"op": "insert", "table": "Interface", "uuid-name": "i_veth", "row": {"name": "rec-p1", "external_ids": owner}},
    {"op": "insert", "table": "Port", "uuid-name": "p_veth", "row": {"name": "rec-p1", "interfaces": ["named-uuid", "i_veth"], "tag": 10, "external_ids": owner}},
    {"op": "insert", "table": "Bridge", "uuid-name": "b_rec0", "row": {"name": "rec0", "datapath_type": "netdev", "stp_enable": False,
        "fail_mode": "standalone", "ports": ["set", [["named-uuid", "p_rec0"], ["named-uuid", "p_veth"]]], "external_ids": owner}},
    {"op": "mutate", "table": "Open_vSwitch", "where": where_root, "mutations": [["bridges", "insert", ["named-uuid", "b_rec0"]]]},
    {"op": "mutate", "table": "Open_vSwitch", "where": where_root, "mutations": [["next_cfg", "+=", 1]]},
    {"op": "select", "table": "Open_vSwitch", "where": where_root, "columns": ["next_cfg"]},
    {"op": "comment", "comment": "vnet: record.py"}]
save("insert-bridge", *c.call("transact", insert))

notes = []
# A round trip on the monitoring connection collects the notification the insert caused.
_, _, _ = mon.call("echo", [], notes)
save("monitor", mreq, mrep, mtext, notes)

save("select-all", *c.call("transact", [DB,
    {"op": "select", "table": "Bridge", "where": [], "columns": ["_uuid", "name", "datapath_type", "stp_enable", "fail_mode", "external_ids", "ports"]},
    {"op": "select", "table": "Port", "where": [], "columns": ["_uuid", "name", "tag", "trunks", "vlan_mode", "interfaces", "external_ids"]},
    {"op": "select", "table": "Interface", "where": [], "columns": ["_uuid", "name", "type", "ofport", "error", "external_ids"]}]))

save("update-port", *c.call("transact", [DB,
    {"op": "update", "table": "Port", "where": [["name", "==", "rec-p1"]], "row": {"tag": ["set", []], "trunks": ["set", [10, 20]]}},
    {"op": "mutate", "table": "Port", "where": [["name", "==", "rec-p1"]], "mutations": [["external_ids", "insert", ["map", [["note", "x"]]]]]}]))

save("wait-fails", *c.call("transact", [DB,
    {"op": "wait", "table": "Bridge", "where": [["name", "==", "rec0"]], "columns": ["external_ids"], "until": "==",
     "rows": [{"external_ids": ["map", [["vnet-instance", "other"]]]}], "timeout": 0},
    {"op": "update", "table": "Bridge", "where": [["name", "==", "rec0"]], "row": {"stp_enable": True}}]))

save("duplicate-name", *c.call("transact", [DB,
    {"op": "insert", "table": "Interface", "uuid-name": "i2", "row": {"name": "rec0b", "type": "internal"}},
    {"op": "insert", "table": "Port", "uuid-name": "p2", "row": {"name": "rec0b", "interfaces": ["named-uuid", "i2"]}},
    {"op": "insert", "table": "Bridge", "uuid-name": "b2", "row": {"name": "rec0", "ports": ["named-uuid", "p2"]}},
    {"op": "mutate", "table": "Open_vSwitch", "where": where_root, "mutations": [["bridges", "insert", ["named-uuid", "b2"]]]}]))

save("port-without-interface", *c.call("transact", [DB,
    {"op": "insert", "table": "Port", "uuid-name": "p3", "row": {"name": "rec-bad"}},
    {"op": "mutate", "table": "Bridge", "where": [["name", "==", "rec0"]], "mutations": [["ports", "insert", ["named-uuid", "p3"]]]}]))

save("unknown-table", *c.call("transact", [DB, {"op": "select", "table": "Nope", "where": []}]))
save("unknown-method", *c.call("frobnicate", []))
save("monitor-cancel", *mon.call("monitor_cancel", ["vnet"]))

bridge_uuid = None
req, rep, text = c.call("transact", [DB, {"op": "select", "table": "Bridge", "where": [["name", "==", "rec0"]], "columns": ["_uuid"]}])
bridge_uuid = rep["result"][0]["rows"][0]["_uuid"]
save("delete-bridge", *c.call("transact", [DB,
    {"op": "mutate", "table": "Open_vSwitch", "where": where_root, "mutations": [["bridges", "delete", bridge_uuid]]},
    {"op": "mutate", "table": "Open_vSwitch", "where": where_root, "mutations": [["next_cfg", "+=", 1]]},
    {"op": "select", "table": "Bridge", "where": [], "columns": ["name"]},
    {"op": "select", "table": "Port", "where": [], "columns": ["name"]}]))
print("recorded into", out_dir)
