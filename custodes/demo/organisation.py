"""A synthetic agency: departments, people, hosts, mobile devices and travel, fixed by a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

DOMAIN = "agency.example"
NETBIOS = "AGENCY"
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
HOME_COUNTRY = "US"
DELETE_AFTER_DAYS = 30  # a leaver's account is disabled on the day and deleted this much later

DEPARTMENTS = (
    "Office of the Director",
    "Finance",
    "Human Resources",
    "Information Technology",
    "Legal Counsel",
    "Field Operations",
    "Investigations",
    "Procurement",
    "Public Affairs",
    "Research and Analysis",
)
IT_DEPARTMENT = "Information Technology"

FIRST_NAMES = (  # noqa: SIM905
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy "
    "Anthony Betty Mark Sandra Donald Margaret Steven Ashley Paul Kimberly Andrew Emily "
    "Joshua Donna Kenneth Michelle Kevin Carol Brian Amanda George Melissa Timothy Deborah "
    "Ronald Stephanie Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Gary "
    "Angela Nicholas Helen Eric Anna Jonathan Brenda Stephen Pamela Larry Nicole Justin "
    "Samantha Scott Katherine Brandon Christine Omar Aisha Wei Mei Ravi Priya Carlos Lucia "
    "Kofi Amara Yusuf Leila"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Okafor "
    "Haddad Chen Singh"
).split()

PHONE_MODELS = (
    ("iOS", "iPhone 15", "17.6.1"),
    ("iOS", "iPhone 14", "17.6.1"),
    ("iOS", "iPhone 13", "17.5"),
    ("Android", "Pixel 8", "14"),
    ("Android", "Galaxy S23", "14"),
)
#: The minimum OS versions the demo policy accepts (see reference/policy-hints.json).
MIN_OS = {"iOS": "17.5", "Android": "14"}


@dataclass(frozen=True, slots=True)
class Host:
    """A computer: Windows workstation or server, or Linux server."""

    index: int
    name: str
    ip: str
    kind: str  # workstation | windows-server | linux-server
    role: str  # workstation | dc | file | app | sql | web | db | bastion | build

    @property
    def fqdn(self) -> str:
        """The fully qualified name Windows reports as Computer."""
        return f"{self.name}.{DOMAIN}"


@dataclass(slots=True)
class Person:
    """Someone on the HR roster (current or former) and their habits."""

    index: int
    employee_id: str
    first_name: str
    last_name: str
    account: str
    email: str
    department: str
    title: str
    role: str  # staff | manager | admin
    manager_id: str
    start_date: date
    separation_date: date | None
    workstation: int  # host index
    home_ip: str
    start_hour: float
    end_hour: float
    remote_weekdays: tuple[int, ...]
    weekend_worker: bool
    sid: str
    admin_account: str | None = None
    extra_groups: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class Device:
    """A mobile device enrolled in the MDM."""

    device_id: str
    owner: int  # person index
    platform: str
    model: str
    os_version: str
    serial: str
    is_encrypted: bool = True
    has_passcode: bool = True
    is_jailbroken: bool = False
    is_managed: bool = True
    is_lost: bool = False
    lost_at: date | None = None


@dataclass(frozen=True, slots=True)
class Trip:
    """Registered official travel."""

    person: int
    countries: tuple[str, ...]
    start: date
    end: date
    purpose: str


@dataclass
class Organisation:
    """Everything about the agency that is not an event."""

    start: date
    days: int
    people: list[Person]
    hosts: list[Host]
    devices: list[Device] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    service_accounts: list[str] = field(default_factory=list)

    def hosts_by_role(self, role: str) -> list[Host]:
        """Hosts with this role, in index order."""
        return [host for host in self.hosts if host.role == role]

    def is_employed(self, person: Person, day: date) -> bool:
        """Whether the person works here on that day."""
        if person.start_date > day:
            return False
        return person.separation_date is None or person.separation_date > day

    def deleted_on(self, person: Person) -> date | None:
        """When a leaver's directory account is deleted (30 days after separation)."""
        if person.separation_date is None:
            return None
        return person.separation_date + timedelta(days=DELETE_AFTER_DAYS)

    @property
    def end(self) -> date:
        """The last day of telemetry."""
        return self.start + timedelta(days=self.days - 1)


def workstation_ip(number: int) -> str:
    """Workstations live in 10.20.0.0/16."""
    return f"10.20.{number // 250}.{number % 250 + 2}"


def build_organisation(
    rng: np.random.Generator, people: int, start: date, days: int
) -> Organisation:
    """A deterministic organisation of `people` current staff plus some former staff."""
    count = max(people, 12)
    former = max(3, count // 25)
    total = count + former
    hosts = server_hosts(count)
    first = rng.choice(len(FIRST_NAMES), total)
    last = rng.choice(len(LAST_NAMES), total)
    weights = np.array([2, 6, 4, 8, 3, 14, 10, 4, 3, 8], dtype=float)
    departments = rng.choice(len(DEPARTMENTS), total, p=weights / weights.sum())
    departments[0] = 0  # the director heads the Office of the Director
    departments[1:5] = 3  # IT always has people: the admins come from it
    start_hours = np.clip(rng.normal(8.4, 0.6, total), 6.5, 10.5)
    lengths = np.clip(rng.normal(8.6, 0.5, total), 7.0, 10.5)
    late = rng.random(total) < 0.08
    lengths[late] += rng.uniform(2.5, 4.0, int(late.sum()))
    remote = rng.random((total, 5)) < 0.25
    weekend = rng.random(total) < 0.06
    taken: set[str] = set()
    persons: list[Person] = []
    end = start + timedelta(days=days - 1)
    for index in range(total):
        given, family = FIRST_NAMES[first[index]], LAST_NAMES[last[index]]
        account = unique_account(f"{given[0]}{family}".lower(), taken)
        department = DEPARTMENTS[departments[index]]
        is_former = index >= count
        hired = start - timedelta(days=int(rng.integers(200, 4000)))
        separated = None
        if is_former:
            separated = start - timedelta(days=int(rng.integers(20, 150)))
        workstation = len(hosts)
        hosts.append(
            Host(
                workstation, f"WS-{index:05d}", workstation_ip(index), "workstation", "workstation"
            )
        )
        persons.append(
            Person(
                index=index,
                employee_id=f"E{100000 + index * 7:06d}",
                first_name=given,
                last_name=family,
                account=account,
                email=email_address(given, family, account),
                department=department,
                title="Analyst",
                role="staff",
                manager_id="",
                start_date=hired,
                separation_date=separated,
                workstation=workstation,
                home_ip=f"{rng.integers(24, 220)}.{rng.integers(0, 255)}.{rng.integers(0, 255)}"
                f".{rng.integers(1, 254)}",
                start_hour=float(start_hours[index]),
                end_hour=float(start_hours[index] + lengths[index]),
                remote_weekdays=tuple(int(day) for day in np.flatnonzero(remote[index])),
                weekend_worker=bool(weekend[index]),
                sid=f"{DOMAIN_SID}-{1100 + index}",
            )
        )
    assign_roles(persons[:count], rng)
    add_joiners_and_leavers(persons[:count], rng, start, end)
    return Organisation(
        start=start,
        days=days,
        people=persons,
        hosts=hosts,
        service_accounts=["svc_backup", "svc_sql", "svc_web", "svc_scan", "svc_mdm"],
    )


def email_address(given: str, family: str, account: str) -> str:
    """first.last@domain, with the account's disambiguating number if it has one."""
    suffix = account[len(given[0] + family) :]
    return f"{given.lower()}.{family.lower()}{suffix}@{DOMAIN}"


def unique_account(base: str, taken: set[str]) -> str:
    """`base`, or `base2`, `base3`... when already taken."""
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}{number}"
    taken.add(name)
    return name


def server_hosts(people: int) -> list[Host]:
    """Servers scale gently with the size of the agency."""
    plan = [
        ("DC", "dc", "windows-server", 2),
        ("FS", "file", "windows-server", max(1, people // 400)),
        ("APP", "app", "windows-server", max(2, people // 300)),
        ("SQL", "sql", "windows-server", max(1, people // 1000)),
        ("lnx-web", "web", "linux-server", max(2, people // 500)),
        ("lnx-db", "db", "linux-server", max(1, people // 1000)),
        ("lnx-build", "build", "linux-server", 1),
        ("bastion", "bastion", "linux-server", 1),
    ]
    hosts: list[Host] = []
    for prefix, role, kind, count in plan:
        for number in range(1, count + 1):
            subnet = 10 if kind == "windows-server" else 11
            hosts.append(
                Host(
                    len(hosts),
                    f"{prefix}{number:02d}",
                    f"10.{subnet}.0.{len(hosts) + 10}",
                    kind,
                    role,
                )
            )
    return hosts


def assign_roles(people: list[Person], rng: np.random.Generator) -> None:
    """Managers per department, admins in IT (each with a separate admin account)."""
    by_department: dict[str, list[Person]] = {}
    for person in people:
        by_department.setdefault(person.department, []).append(person)
    director = people[0]
    for members in by_department.values():
        manager = members[0]
        manager.role, manager.title = "manager", "Director" if manager is director else "Manager"
        for member in members[1:]:
            member.manager_id = manager.employee_id
        if manager is not director:
            manager.manager_id = director.employee_id
    it_staff = [person for person in by_department[IT_DEPARTMENT] if person.role == "staff"]
    admins = max(2, len(people) // 60)
    for person in it_staff[:admins]:
        person.role, person.title = "admin", "Systems Administrator"
        person.admin_account = f"adm_{person.account}"
    for person in it_staff[admins:]:
        person.title = "IT Specialist"
    del rng


def add_joiners_and_leavers(
    people: list[Person], rng: np.random.Generator, start: date, end: date
) -> None:
    """A few people join and a few leave during the window (never the managers or admins)."""
    staff = [
        person for person in people if person.role == "staff" and person.department != IT_DEPARTMENT
    ]
    moves = max(1, len(people) // 100)
    chosen = rng.choice(len(staff), min(len(staff), 2 * moves), replace=False)
    span = max(1, (end - start).days)
    for number, position in enumerate(chosen):
        person = staff[int(position)]
        offset = int(rng.integers(1, span + 1)) if span > 1 else 0
        if number % 2 == 0:
            person.start_date = start + timedelta(days=offset)
        else:
            person.separation_date = start + timedelta(days=offset)
