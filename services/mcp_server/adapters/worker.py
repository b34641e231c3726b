"""A conversion worker process: builds docling's converter once, then converts what arrives on its pipe.

Protocol (pickled tuples over a `multiprocessing` pipe):
  server -> worker: `Job`, or `None` to stop
  worker -> server: ("ready", info) once; then per job any number of
                    ("progress", job_id, stage, done, total) and exactly one
                    ("done", job_id, ConvertedDocument, rss) or ("failed", job_id, message, rss)
This module imports docling at the top so a forkserver can preload it once for every worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

from docling.datamodel.base_models import ConversionStatus, InputFormat
from docling.datamodel.pipeline_options import NativePdfPipelineOptions, PdfPipelineOptions
from docling.datamodel.progress import ConversionProgressKind
from docling.document_converter import DocumentConverter, PdfFormatOption
from docling.pipeline.native_pdf_pipeline import NativePdfPipeline
from docling_core.types.doc import DoclingDocument

from services.mcp_server import logs
from services.mcp_server.adapters import ocr
from services.mcp_server.domain import ConvertedDocument, ToolFailure, choose_pdf_pipeline

log = logging.getLogger("services.mcp_server.worker")

# Test-only triggers, honoured only with MCP_SERVER_TEST_FAULTS=1: a file starting with one of these lines.
FAULT_CRASH = b"DOCLING-JOBS-TEST-FAULT: crash"
FAULT_HANG = b"DOCLING-JOBS-TEST-FAULT: hang"
FAULT_HOG = b"DOCLING-JOBS-TEST-FAULT: hog"  # allocates until a memory limit has the kernel kill it
HOG_CHUNK = 16 * 1024 * 1024
HOG_LIMIT = 4 * 1024 * 1024 * 1024  # without a memory limit, give up here rather than exhaust the host
FAULT_MEMORY = b"DOCLING-JOBS-TEST-FAULT: memory"  # grows by 64 MB every 20 ms, up to 16 GB
FAULT_CPU = b"DOCLING-JOBS-TEST-FAULT: cpu"  # spins on the CPU
# waits until the file named on the rest of the line exists, then converts the document as it is
FAULT_GATE = b"DOCLING-JOBS-TEST-FAULT: gate "
_SUCCEEDED = (ConversionStatus.SUCCESS, ConversionStatus.PARTIAL_SUCCESS)
_WARM = (
    InputFormat.DOCX,
    InputFormat.PPTX,
    InputFormat.XLSX,
    InputFormat.HTML,
    InputFormat.MD,
    InputFormat.CSV,
)


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: int
    pdf_pipeline: str  # auto | standard | native
    pdf_do_ocr: bool
    threads: int
    test_faults: bool
    log_level: str
    doc_cpu_s: int = 90  # RLIMIT_CPU per document: past it the kernel sends SIGXCPU (the worker ends)
    memory_mb: int = 3072  # the address-space backstop (RLIMIT_AS) is the ready worker's size + 2x this


@dataclass(frozen=True)
class Job:
    job_id: int
    path: str


def run(conn: Connection, config: WorkerConfig) -> None:
    """The process entry point."""
    logs.configure(config.log_level, worker=config.worker_id)
    _die_with_parent()
    _limit_threads(config.threads)
    converter, pdf_pipeline, standard_error = _build_converter(config)
    for input_format in _WARM:  # pipelines are built once per worker, not on its first document
        converter.initialize_pipeline(input_format)
    _limit_address_space(config.memory_mb)
    conn.send(("ready", {"pid": os.getpid(), "pdf_pipeline": pdf_pipeline, "standard_error": standard_error}))
    log.info("worker ready", extra={"pdf_pipeline": pdf_pipeline, "pid": os.getpid()})
    while (job := _next_job(conn)) is not None:
        with _cpu_budget(config.doc_cpu_s):
            conn.send(_convert(conn, converter, pdf_pipeline, config, job))


@contextlib.contextmanager
def _cpu_budget(seconds: int) -> Iterator[None]:
    """RLIMIT_CPU counts the process's whole life: the soft limit is what it used so far + ``seconds``."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    used = os.times()
    soft = math.ceil(used.user + used.system) + seconds
    resource.setrlimit(
        resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


def _limit_address_space(memory_mb: int) -> None:
    """A backstop under the pool's RSS watchdog: allocations past it raise MemoryError."""
    try:
        with open("/proc/self/statm") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = size + 2 * memory_mb * 2**20
        resource.setrlimit(
            resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
        )
    except (OSError, ValueError, IndexError):
        log.warning("no address-space limit on this system")


def _next_job(conn: Connection) -> Job | None:
    try:
        return conn.recv()
    except (EOFError, OSError):  # the server went away
        return None


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when its parent (the forkserver, which follows the server) dies."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_threads(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def _build_converter(config: WorkerConfig) -> tuple[DocumentConverter, str, str | None]:
    standard_error = None
    if config.pdf_pipeline != "native":
        converter, standard_error = _try_standard(config)
    try:
        pipeline = choose_pdf_pipeline(config.pdf_pipeline, standard_error)
    except ToolFailure:
        pipeline = "unavailable"
    if pipeline == "standard":
        return converter, pipeline, None
    options = NativePdfPipelineOptions(parser_threads=config.threads)
    native = DocumentConverter(
        format_options={
            InputFormat.PDF: PdfFormatOption(pipeline_cls=NativePdfPipeline, pipeline_options=options)
        }
    )
    native.initialize_pipeline(InputFormat.PDF)
    return native, pipeline, standard_error


def _try_standard(config: WorkerConfig) -> tuple[DocumentConverter | None, str | None]:
    """docling's standard PDF pipeline, if its layout model loads from local files (never downloads)."""
    options = PdfPipelineOptions(do_ocr=config.pdf_do_ocr)
    options.accelerator_options.num_threads = config.threads
    try:
        converter = DocumentConverter(
            format_options={InputFormat.PDF: PdfFormatOption(pipeline_options=options)}
        )
        converter.initialize_pipeline(InputFormat.PDF)
        return converter, None
    except Exception as exc:  # missing packages or weights: the native pipeline takes over
        return None, f"{type(exc).__name__}: {exc}"[:500]


def _convert(
    conn: Connection, converter: DocumentConverter, pdf_pipeline: str, config: WorkerConfig, job: Job
) -> tuple:
    started = time.monotonic()
    try:
        if config.test_faults:
            _injected_fault(job.path)
        document = _convert_document(conn, converter, pdf_pipeline, job)
    except ToolFailure as exc:
        return ("failed", job.job_id, str(exc), _rss_bytes())
    except MemoryError:  # the address-space backstop: the pool replaces this worker
        log.warning("conversion ran out of memory", extra={"job_id": job.job_id})
        message = f"[E209] the document needed more than {config.memory_mb} MB of memory to convert"
        return ("failed", job.job_id, message, 0)
    except Exception as exc:  # docling raised: the document's fault, reported as such
        log.warning("conversion raised", extra={"job_id": job.job_id, "error": type(exc).__name__})
        return ("failed", job.job_id, f"conversion failed: {type(exc).__name__}: {exc}"[:1000], _rss_bytes())
    log.info(
        "converted",
        extra={
            "job_id": job.job_id,
            "pipeline": document.pipeline,
            "pages": document.pages,
            "seconds": round(time.monotonic() - started, 3),
        },
    )
    return ("done", job.job_id, document, _rss_bytes())


def _convert_document(
    conn: Connection, converter: DocumentConverter, pdf_pipeline: str, job: Job
) -> ConvertedDocument:
    def report(event) -> None:
        stage, done, total = _stage_of(event)
        if stage:
            conn.send(("progress", job.job_id, stage, done, total))

    with ocr.as_pdf(job.path) as path:  # an image: a scan to read
        result = converter.convert(path, raises_on_error=False, progress_callback=report)
        if result.status not in _SUCCEEDED:
            reasons = "; ".join(e.error_message for e in result.errors) or result.status.value
            raise ToolFailure(f"conversion failed ({result.status.value}): {reasons}"[:1000])
        is_pdf = result.input.format == InputFormat.PDF
        if is_pdf and pdf_pipeline == "unavailable":
            raise ToolFailure("no PDF pipeline: MCP_SERVER_PDF_PIPELINE=standard but its models are missing")
        document = result.document
        if is_pdf and pdf_pipeline == "native" and not any(item.text.strip() for item in document.texts):
            _read_scanned(document, path)
    conn.send(("progress", job.job_id, "export", 0, 0))
    return ConvertedDocument(
        markdown=document.export_to_markdown(),
        html=document.export_to_html(),
        json=json.dumps(document.export_to_dict()),
        pipeline=pdf_pipeline if is_pdf else "simple",
        pages=len(document.pages),
    )


def _read_scanned(document: DoclingDocument, path: str) -> None:
    """A PDF without a text layer (a scan, an image): OCR its pages with tesseract, or fail saying why."""
    binary = ocr.engine()
    if binary is None:
        raise ToolFailure(
            "the PDF has no text layer (a scanned document?); converting it needs OCR: "
            "install Debian's tesseract-ocr on the MCP server's machine"
        )
    if ocr.add_paragraphs(document, ocr.page_texts(path, binary)) == 0:
        raise ToolFailure("the PDF has no text layer and OCR found no text in it")


def _stage_of(event) -> tuple[str | None, int, int]:
    if event.kind == ConversionProgressKind.PAGE_COMPLETED:
        return "page", event.completed_pages, event.total_pages
    if event.kind == ConversionProgressKind.PHASE_STARTED:
        return event.phase.value, 0, 0  # initialize, build, assemble, enrich
    if event.kind == ConversionProgressKind.DOCUMENT_STARTED:
        return "started", 0, 0
    return None, 0, 0


def _injected_fault(path: str) -> None:
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if head.startswith(FAULT_GATE):
        gate = head[len(FAULT_GATE) :].split(b"\n", 1)[0].decode().strip()
        log.warning("test fault: waiting for the gate file")
        while not os.path.exists(gate):
            time.sleep(0.05)
    if head.startswith(FAULT_CRASH):
        log.warning("test fault: crashing this worker")
        os._exit(70)
    if head.startswith(FAULT_HANG):
        log.warning("test fault: hanging this worker")
        while True:
            time.sleep(60)
    if head.startswith(FAULT_HOG):
        log.warning("test fault: allocating memory until killed")
        held = [bytearray(HOG_CHUNK) for _ in range(HOG_LIMIT // HOG_CHUNK)]  # bytearray touches every page
        os._exit(71 if held else 72)
    if head.startswith(FAULT_MEMORY):
        log.warning("test fault: growing this worker")
        hoard = []
        for _ in range(256):
            hoard.append(b"\x01" * (64 * 2**20))  # written, so resident (zeroed pages are not)
            time.sleep(0.02)
    if head.startswith(FAULT_CPU):
        log.warning("test fault: spinning this worker")
        while True:
            pass


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
