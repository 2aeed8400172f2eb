#!/usr/bin/python3
"""Registers an OpenStack service with Keystone: project, service, endpoints, user, roles."""

DOCUMENTATION = r"""
---
module: keystone_registration
short_description: Register a service with Keystone (catalog entry, endpoints, service user)
description:
  - Makes Keystone hold exactly what one service needs, creating or correcting only what
    differs - the projects it names, the region, the catalog service, one endpoint per
    interface (extra ones removed, wrong URLs corrected), the service user with its password
    and its roles on its project.
  - Talks to Keystone with python3-keystoneclient (Debian's package, installed with keystone),
    so it runs on a keystone host. openstack.cloud 2.x needs openstacksdk 1.0 or newer, which
    Debian 12 does not ship; this module needs nothing beyond what keystone installs.
  - Supports check mode and diff.
options:
  auth_url:
    description: Keystone's v3 URL used to log in (the internal endpoint).
    type: str
    required: true
  auth_username:
    description: Admin user.
    type: str
    required: true
  auth_password:
    description: Admin password.
    type: str
    required: true
  auth_project:
    description: Project the admin logs in to.
    type: str
    default: admin
  domain:
    description: Domain of the users and projects (its id).
    type: str
    default: default
  region:
    description: Region of the endpoints (created when missing).
    type: str
    default: RegionOne
  projects:
    description: Projects that must exist.
    type: list
    elements: str
    default: []
  service:
    description: Catalog service - name, type, description.
    type: dict
  endpoints:
    description: URL per interface (public, internal, admin) of the service.
    type: dict
    default: {}
  user:
    description: Service user - name, password, project, roles (default [admin]).
    type: dict
author: Strata
"""

EXAMPLES = r"""
- name: Register glance
  keystone_registration:
    auth_url: http://172.29.236.20:5000/v3
    auth_username: admin
    auth_password: "{{ keystone_admin_password }}"
    service: {name: glance, type: image, description: OpenStack Image}
    endpoints:
      public: http://203.0.113.10:9292
      internal: http://172.29.236.20:9292
      admin: http://172.29.236.20:9292
    user: {name: glance, password: "{{ glance_service_password }}", project: service}
"""

RETURN = r"""
actions:
  description: What was (or, in check mode, would be) changed, one line each.
  returned: always
  type: list
  elements: str
  sample: ["create endpoint image public http://172.29.236.20:9292"]
"""

INTERFACES = ("public", "internal", "admin")


def endpoint_actions(existing, wanted):
    """Changes that make a service's endpoints in one region match `wanted`.

    existing: [{"id", "interface", "url"}]; wanted: {interface: url}.
    Returns [(verb, interface, url, endpoint_id)] with verb create/update/delete.
    """
    actions = []
    by_interface = {}
    for endpoint in sorted(existing, key=lambda e: e["id"]):
        by_interface.setdefault(endpoint["interface"], []).append(endpoint)
    for interface in INTERFACES:
        have = by_interface.pop(interface, [])
        url = wanted.get(interface)
        if url is None:
            actions += [("delete", interface, e["url"], e["id"]) for e in have]
            continue
        keep = next((e for e in have if e["url"] == url), None)
        if keep is None and have:
            keep = have[0]
            actions.append(("update", interface, url, keep["id"]))
        elif keep is None:
            actions.append(("create", interface, url, None))
        actions += [("delete", interface, e["url"], e["id"]) for e in have if e is not keep]
    for interface, others in sorted(by_interface.items()):
        actions += [("delete", interface, e["url"], e["id"]) for e in others]
    return actions


def check_params(params):
    """Problems with the module's parameters, as messages (empty when they are sound)."""
    problems = []
    service = params.get("service")
    endpoints = params.get("endpoints") or {}
    if service is not None:
        for key in ("name", "type"):
            if not service.get(key):
                problems.append(f"service.{key} is missing (expected a non-empty string)")
    for interface in endpoints:
        if interface not in INTERFACES:
            problems.append(
                f"endpoints.{interface}: unknown interface (expected {', '.join(INTERFACES)})"
            )
    if endpoints and service is None:
        problems.append("endpoints given without service (expected the service they belong to)")
    user = params.get("user")
    if user is not None:
        for key in ("name", "password", "project"):
            if not user.get(key):
                problems.append(f"user.{key} is missing (expected a non-empty string)")
    return problems


class Keystone:
    """The few Keystone calls the module needs (python3-keystoneclient)."""

    def __init__(self, params):
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        from keystoneclient.v3 import client

        self._v3 = v3
        self._session_cls = session.Session
        self.params = params
        self.domain = params["domain"]
        auth = v3.Password(
            auth_url=params["auth_url"],
            username=params["auth_username"],
            password=params["auth_password"],
            project_name=params["auth_project"],
            user_domain_id=self.domain,
            project_domain_id=self.domain,
        )
        # connect_retries: a keep-alive connection the load balancer has closed fails the next
        # request ("Remote end closed connection without response"); retry on a new one.
        self.client = client.Client(
            session=session.Session(auth=auth),
            endpoint_override=params["auth_url"],
            connect_retries=3,
        )

    def project(self, name):
        found = self.client.projects.list(name=name, domain=self.domain)
        return found[0] if found else None

    def can_log_in(self, name, password):
        """The password is the user's: an unscoped login (needs no role) succeeds."""
        from keystoneauth1 import exceptions

        auth = self._v3.Password(
            auth_url=self.params["auth_url"],
            username=name,
            password=password,
            user_domain_id=self.domain,
        )
        try:
            self._session_cls(auth=auth).get_token()
        except exceptions.Unauthorized:
            return False
        return True


def run(module, ks):
    params = module.params
    check = module.check_mode
    actions = []
    region = params["region"]
    c = ks.client

    if not any(r.id == region for r in c.regions.list()):
        actions.append(f"create region {region}")
        if not check:
            c.regions.create(id=region)

    projects = {}
    wanted_projects = list(params["projects"])
    user = params.get("user")
    if user and user["project"] not in wanted_projects:
        wanted_projects.append(user["project"])
    for name in wanted_projects:
        project = ks.project(name)
        if project is None:
            actions.append(f"create project {name}")
            if not check:
                project = c.projects.create(name=name, domain=ks.domain)
        projects[name] = project

    service = params.get("service")
    if service:
        found = [s for s in c.services.list(type=service["type"]) if s.name == service["name"]]
        svc = found[0] if found else None
        description = service.get("description") or ""
        if svc is None:
            actions.append(f"create service {service['name']} ({service['type']})")
            if not check:
                svc = c.services.create(
                    name=service["name"], type=service["type"], description=description
                )
        elif getattr(svc, "description", "") != description:
            actions.append(f"update service {service['name']} description")
            if not check:
                c.services.update(svc, description=description)
        existing = []
        if svc is not None:
            existing = [
                {"id": e.id, "interface": e.interface, "url": e.url}
                for e in c.endpoints.list(service=svc)
                if getattr(e, "region_id", None) == region
            ]
        for verb, interface, url, endpoint_id in endpoint_actions(existing, params["endpoints"]):
            actions.append(f"{verb} endpoint {service['type']} {interface} {url}")
            if check:
                continue
            if verb == "create":
                c.endpoints.create(service=svc, url=url, interface=interface, region=region)
            elif verb == "update":
                c.endpoints.update(endpoint_id, url=url)
            else:
                c.endpoints.delete(endpoint_id)

    if user:
        found = c.users.list(name=user["name"], domain=ks.domain)
        account = found[0] if found else None
        project = projects.get(user["project"])
        if account is None:
            actions.append(f"create user {user['name']}")
            if not check:
                account = c.users.create(
                    name=user["name"],
                    password=user["password"],
                    domain=ks.domain,
                    default_project=project,
                    enabled=True,
                )
        roles = user.get("roles") or ["admin"]
        for role_name in roles:
            role = next(iter(c.roles.list(name=role_name)), None)
            if role is None:
                actions.append(f"create role {role_name}")
                if not check:
                    role = c.roles.create(name=role_name)
            granted = (
                account is not None
                and project is not None
                and role is not None
                and c.role_assignments.list(user=account, project=project, role=role)
            )
            if not granted:
                actions.append(f"grant {role_name} on {user['project']} to {user['name']}")
                if not check:
                    c.roles.grant(role, user=account, project=project)
        if found and not ks.can_log_in(user["name"], user["password"]):
            actions.append(f"set password of user {user['name']}")
            if not check:
                c.users.update(account, password=user["password"])
    return actions


def main():
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "auth_url": {"type": "str", "required": True},
            "auth_username": {"type": "str", "required": True},
            "auth_password": {"type": "str", "required": True, "no_log": True},
            "auth_project": {"type": "str", "default": "admin"},
            "domain": {"type": "str", "default": "default"},
            "region": {"type": "str", "default": "RegionOne"},
            "projects": {"type": "list", "elements": "str", "default": []},
            "service": {"type": "dict"},
            "endpoints": {"type": "dict", "default": {}},
            "user": {"type": "dict", "no_log": False},
        },
        supports_check_mode=True,
    )
    problems = check_params(module.params)
    if problems:
        module.fail_json(msg="keystone_registration: " + "; ".join(problems))
    if module.params.get("user"):
        module.no_log_values.add(module.params["user"].get("password") or "")
    try:
        ks = Keystone(module.params)
        actions = run(module, ks)
    except ImportError as exc:
        module.fail_json(msg=f"keystone_registration needs python3-keystoneclient: {exc}")
    except Exception as exc:  # keystoneauth/keystoneclient errors: report them plainly
        module.fail_json(msg=f"keystone_registration: {type(exc).__name__}: {exc}")
    module.exit_json(
        changed=bool(actions),
        actions=actions,
        diff={"before": "", "after": "".join(f"{a}\n" for a in actions)},
    )


if __name__ == "__main__":
    main()
