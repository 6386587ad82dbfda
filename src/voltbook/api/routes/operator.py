"""The operator's API: stations, their credentials, commands to them, and alarms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from voltbook.api.cursors import decode_cursor, decode_int_cursor, encode_cursor
from voltbook.api.deps import ServicesDep, StaffDep, StationPath, staff_principal
from voltbook.api.operator_schemas import (
    AlarmOut,
    AlarmPage,
    CancelReservationIn,
    ChangeAvailabilityIn,
    ChangeConfigurationIn,
    ClearCacheIn,
    CommandOut,
    CredentialsOut,
    GetBaseReportIn,
    GetConfigurationIn,
    RemoteStartIn,
    RemoteStopIn,
    ReserveNowIn,
    ResetIn,
    RotationOut,
    StationIn,
    StationOut,
    StationPage,
    TriggerMessageIn,
    UnlockConnectorIn,
)
from voltbook.api.problems import problem_responses
from voltbook.services import Services
from voltbook.stations.commands import Command
from voltbook.stations.model import MAX_NEARBY_LIMIT, MAX_RADIUS_M, NearbyQuery

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)
Timeout = Annotated[
    float | None, Query(gt=0, le=120, description="Seconds to wait for the station's answer")
]
COMMAND_ERRORS = problem_responses(404, 409, 502, 504)


@router.get("/stations", response_model=StationPage)
async def list_stations(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    near_lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    near_lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
) -> StationPage:
    """Stations by id, page by page; or, with near_lat and near_lon, the stations of the
    nearest sites (at most 100 sites, one page)."""
    if near_lat is not None and near_lon is not None:
        query = NearbyQuery(near_lat, near_lon, MAX_RADIUS_M, min(limit, MAX_NEARBY_LIMIT))
        sites = await services.stations.nearby(query)
        nearest = [s for item in sites for s in item.site.stations][:limit]
        return StationPage(items=[StationOut.of(s) for s in nearest], next_cursor=None)
    found = await services.fleet.page(decode_cursor(cursor), limit)
    next_cursor = encode_cursor(found[-1].id) if len(found) == limit else None
    return StationPage(items=[StationOut.of(s) for s in found], next_cursor=next_cursor)


@router.post(
    "/stations",
    status_code=201,
    response_model=CredentialsOut,
    responses=problem_responses(404, 409),
)
async def add_station(services: ServicesDep, body: StationIn) -> CredentialsOut:
    made = await services.fleet.register(body.id, body.password, body.site_id)
    return CredentialsOut(station_id=made.station_id, password=made.password)


@router.get("/stations/{station_id}", response_model=StationOut, responses=problem_responses(404))
async def get_station(services: ServicesDep, station_id: StationPath) -> StationOut:
    return StationOut.of(await services.fleet.get(station_id))


@router.post(
    "/stations/{station_id}/credentials",
    status_code=201,
    response_model=CredentialsOut,
    responses=problem_responses(404),
    summary="Give the station a new random password (shown once)",
)
async def new_credentials(services: ServicesDep, station_id: StationPath) -> CredentialsOut:
    made = await services.fleet.new_password(station_id)
    return CredentialsOut(station_id=made.station_id, password=made.password)


@router.post(
    "/stations/{station_id}/password-rotation",
    response_model=RotationOut,
    responses=COMMAND_ERRORS,
    summary="Send the station a new random password over its connection, without locking it out",
)
async def rotate_password(
    services: ServicesDep, station_id: StationPath, timeout_s: Timeout = None
) -> RotationOut:
    """1.6: ChangeConfiguration AuthorizationKey (hex-encoded); 2.0.1: SetVariables
    SecurityCtrlr.BasicAuthPassword. When the station takes it, the old password stays
    accepted until the station connects with the new one; when it does not, nothing
    changes and its answer is returned (docs/adr/0025)."""
    done = await services.fleet.rotate_password(station_id, timeout_s)
    answer = done.answer
    return RotationOut(
        command="rotate_password",
        action=answer.action,
        status=answer.status,
        response=answer.response,
        password=done.password,
    )


@router.get("/alarms", response_model=AlarmPage, summary="Alarms not yet cleared, oldest first")
async def list_alarms(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> AlarmPage:
    found = await services.alarms.active(decode_int_cursor(cursor), limit)
    next_cursor = encode_cursor(found[-1].id) if len(found) == limit else None
    return AlarmPage(items=[AlarmOut.of(a) for a in found], next_cursor=next_cursor)


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    response_model=AlarmOut,
    responses=problem_responses(404, 409),
    summary="Take an alarm in hand: the other operators see who did, live",
)
async def acknowledge_alarm(
    services: ServicesDep,
    staff: StaffDep,
    alarm_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> AlarmOut:
    """Once per alarm, active or cleared (409 when one did already); the alarm stays active
    until its cause clears. Staff hear it on the live channel as an `alarm` notice."""
    return AlarmOut.of(await services.alarms.acknowledge(alarm_id, staff.driver_id))


async def _run(
    services: Services, station_id: str, name: str, command: Command, wait_s: float | None
) -> CommandOut:
    answer = await services.fleet.command(station_id, command, wait_s)
    return CommandOut(
        command=name, action=answer.action, status=answer.status, response=answer.response
    )


_COMMAND = "/stations/{station_id}/commands/"


@router.post(_COMMAND + "get_configuration", response_model=CommandOut, responses=COMMAND_ERRORS)
async def get_configuration(
    services: ServicesDep,
    station_id: StationPath,
    body: GetConfigurationIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Query: 1.6 GetConfiguration / 2.0.1 GetVariables."""
    return await _run(services, station_id, "get_configuration", body.command(), timeout_s)


@router.post(_COMMAND + "get_base_report", response_model=CommandOut, responses=COMMAND_ERRORS)
async def get_base_report(
    services: ServicesDep,
    station_id: StationPath,
    body: GetBaseReportIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Query (2.0.1): the whole configuration. The station's answer to GetBaseReport, and
    when it accepted, `response.reportData`: the items of every NotifyReport part it sent,
    put together in seqNo order (at most 5,000 variables; the timeout covers the whole
    report). A 1.6 station: 422, use get_configuration."""
    return await _run(services, station_id, "get_base_report", body.command(), timeout_s)


@router.post(_COMMAND + "trigger_message", response_model=CommandOut, responses=COMMAND_ERRORS)
async def trigger_message(
    services: ServicesDep,
    station_id: StationPath,
    body: TriggerMessageIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Query: ask the station to send a message now."""
    return await _run(services, station_id, "trigger_message", body.command(), timeout_s)


@router.post(_COMMAND + "change_configuration", response_model=CommandOut, responses=COMMAND_ERRORS)
async def change_configuration(
    services: ServicesDep,
    station_id: StationPath,
    body: ChangeConfigurationIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Setting: 1.6 ChangeConfiguration / 2.0.1 SetVariables."""
    return await _run(services, station_id, "change_configuration", body.command(), timeout_s)


@router.post(_COMMAND + "change_availability", response_model=CommandOut, responses=COMMAND_ERRORS)
async def change_availability(
    services: ServicesDep,
    station_id: StationPath,
    body: ChangeAvailabilityIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Setting: take an EVSE or the whole station in or out of service."""
    return await _run(services, station_id, "change_availability", body.command(), timeout_s)


@router.post(_COMMAND + "reset", response_model=CommandOut, responses=COMMAND_ERRORS)
async def reset(
    services: ServicesDep, station_id: StationPath, body: ResetIn, timeout_s: Timeout = None
) -> CommandOut:
    """Control: soft or hard reset (2.0.1: OnIdle or Immediate)."""
    return await _run(services, station_id, "reset", body.command(), timeout_s)


@router.post(_COMMAND + "unlock_connector", response_model=CommandOut, responses=COMMAND_ERRORS)
async def unlock_connector(
    services: ServicesDep,
    station_id: StationPath,
    body: UnlockConnectorIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Control: release a stuck cable."""
    return await _run(services, station_id, "unlock_connector", body.command(), timeout_s)


@router.post(_COMMAND + "remote_start", response_model=CommandOut, responses=COMMAND_ERRORS)
async def remote_start(
    services: ServicesDep, station_id: StationPath, body: RemoteStartIn, timeout_s: Timeout = None
) -> CommandOut:
    """Control: 1.6 RemoteStartTransaction / 2.0.1 RequestStartTransaction."""
    return await _run(services, station_id, "remote_start", body.command(), timeout_s)


@router.post(_COMMAND + "remote_stop", response_model=CommandOut, responses=COMMAND_ERRORS)
async def remote_stop(
    services: ServicesDep, station_id: StationPath, body: RemoteStopIn, timeout_s: Timeout = None
) -> CommandOut:
    """Control: 1.6 RemoteStopTransaction / 2.0.1 RequestStopTransaction."""
    return await _run(services, station_id, "remote_stop", body.command(), timeout_s)


@router.post(_COMMAND + "reserve_now", response_model=CommandOut, responses=COMMAND_ERRORS)
async def reserve_now(
    services: ServicesDep, station_id: StationPath, body: ReserveNowIn, timeout_s: Timeout = None
) -> CommandOut:
    """Control: make the station hold a connector for an id tag until expires_at."""
    return await _run(services, station_id, "reserve_now", body.command(), timeout_s)


@router.post(_COMMAND + "cancel_reservation", response_model=CommandOut, responses=COMMAND_ERRORS)
async def cancel_reservation(
    services: ServicesDep,
    station_id: StationPath,
    body: CancelReservationIn,
    timeout_s: Timeout = None,
) -> CommandOut:
    """Control: release a reservation the station holds."""
    return await _run(services, station_id, "cancel_reservation", body.command(), timeout_s)


@router.post(_COMMAND + "clear_cache", response_model=CommandOut, responses=COMMAND_ERRORS)
async def clear_cache(
    services: ServicesDep, station_id: StationPath, body: ClearCacheIn, timeout_s: Timeout = None
) -> CommandOut:
    """Control: empty the station's authorization cache."""
    return await _run(services, station_id, "clear_cache", body.command(), timeout_s)
