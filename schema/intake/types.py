"""GraphQL types of online applications: a permit type's requirements, an application's
documents (with a short-lived personal download link), and the mutations' inputs."""

from __future__ import annotations

from datetime import datetime, timezone

import strawberry
from strawberry.file_uploads import Upload

from connectors import records as r
from schema.types.common import ApplicantKind, RequestKind


@strawberry.type(name="PermitRequirement", description="One document a permit type asks for.")
class PermitRequirementType:
    code: str = strawberry.field(description="Name of the multipart document (`DocumentInput.requirement`).")
    name: str
    mandatory: bool
    accepted_types: list[str] = strawberry.field(description="Media types accepted, judged by the content.")
    max_bytes: int = strawberry.field(description="Size limit in bytes.")

    @classmethod
    def of(cls, req: r.PermitRequirement) -> PermitRequirementType:
        return cls(code=req.code, name=req.name, mandatory=req.mandatory, accepted_types=list(req.media_types),
                   max_bytes=req.max_bytes)


@strawberry.type(description="A document of an application. Its content is read through `downloadUrl`: "
                 "a link for the caller alone (send your own bearer token), valid a few minutes; "
                 "each download is written to the access ledger.")
class Document:
    id: str
    requirement: str
    file_name: str
    media_type: str = strawberry.field(description="As found in the content.")
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str | None = strawberry.field(description="Relative to the hub; null when links are not configured.")
    download_expires_at: datetime | None

    @classmethod
    def of(cls, doc: r.DocumentRecord, link: tuple[str, int] | None) -> Document:
        return cls(
            id=doc.id, requirement=doc.requirement, file_name=doc.filename, media_type=doc.media_type,
            size=doc.size, sha256=doc.sha256, uploaded_at=doc.uploaded_at,
            download_url=f"/documents/{link[0]}" if link else None,
            download_expires_at=datetime.fromtimestamp(link[1], timezone.utc) if link else None,
        )


@strawberry.input(description="An application by the signed-in citizen (who is the applicant).")
class ApplicationInput:
    permit_type: str = strawberry.field(description="`PermitType.code`.")
    kelurahan: str = strawberry.field(description="Kelurahan code of the applicant or the business.")
    request_kind: RequestKind = RequestKind.NEW  # type: ignore[assignment]
    applicant_kind: ApplicantKind = ApplicantKind.PERSON  # type: ignore[assignment]
    company_name: str | None = None
    business_address: str | None = None


@strawberry.input(description="One document: the requirement it answers and the file "
                  "(GraphQL multipart request).")
class DocumentInput:
    requirement: str = strawberry.field(description="`PermitRequirement.code`.")
    file: Upload
