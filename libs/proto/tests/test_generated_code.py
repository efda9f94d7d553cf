"""The committed gRPC code is what the .proto files generate today, and it imports with our grpcio."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_generated_code_matches_the_proto_files():
    result = subprocess.run([sys.executable, str(ROOT / "libs/proto/generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_imports_and_names_the_inventory_service():
    from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc

    service = inventory_pb2.DESCRIPTOR.services_by_name["Inventory"]
    assert service.full_name == "taquilla.inventory.v1.Inventory"
    assert {m.name for m in service.methods} >= {"Hold", "Confirm", "Release", "Extend", "GetAvailability"}
    assert hasattr(inventory_pb2_grpc, "InventoryStub")
