// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title DemoDapp
/// @notice A stand-in for a customer's dapp: payable actions that emit the events TRACE's
///         chain indexer reads (tests deploy it on an in-process EVM; demos on a testnet).
contract DemoDapp {
    event Swap(address indexed user, uint256 amountIn, uint256 minAmountOut);
    event Mint(address indexed to, uint256 indexed tokenId, uint256 paid);

    address public immutable owner;
    uint256 public nextTokenId = 1;

    constructor() {
        owner = msg.sender;
    }

    /// Swaps the sent value; the event is what an analytics pipeline sees.
    function swap(uint256 minAmountOut) external payable {
        emit Swap(msg.sender, msg.value, minAmountOut);
    }

    /// Mints `count` tokens in one transaction: one Mint log each, so a transaction can
    /// carry several logs.
    function mint(uint256 count) external payable returns (uint256 firstTokenId) {
        require(count > 0 && count <= 20, "count out of range");
        firstTokenId = nextTokenId;
        for (uint256 i = 0; i < count; i++) {
            emit Mint(msg.sender, nextTokenId, i == 0 ? msg.value : 0);
            nextTokenId++;
        }
    }

    /// Sends the collected value to the owner.
    function withdraw() external {
        require(msg.sender == owner, "only owner");
        (bool ok, ) = owner.call{value: address(this).balance}("");
        require(ok, "transfer failed");
    }
}
