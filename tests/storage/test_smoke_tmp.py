from mastra_memory import Message

async def test_roundtrip(mem):
    t = await mem.create_thread("r1")
    await mem.save_messages([Message.user("hi", thread_id=t.id)])
    page = await mem.recall(t.id)
    assert [m.text for m in page.messages] == ["hi"]
